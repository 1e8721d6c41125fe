"""Find or provide the real parts the tests use: a browser, a Redis server and a PostgreSQL server.

`make test` runs this first. For each part, in order: what is already there, what pip has already
installed, a download by the part's own installer, and, for root with apt-get, Debian's package. When
all of that fails it stops before any test runs, with the one command that will fix it.

Needs only the standard library, so `.ci/run` can run it with the system's Python before the venv exists.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

from . import servers

INSTALL_TIMEOUT = 900  # seconds: a browser download on a slow line, or apt-get on a fresh machine


def say(text: str) -> None:
    print(f"provision: {text}", flush=True)


def can_use_apt() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(package: str) -> bool:
    say(f"installing Debian's {package} with apt-get (you are root) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"`{' '.join(command)}` took longer than {INSTALL_TIMEOUT} s")
            return False
        if done.returncode != 0:
            say(f"`{' '.join(command)}` failed:\n{done.stderr.strip()[-1500:]}")
            return False
    return True


def playwright_download() -> bool:
    if importlib.util.find_spec("playwright") is None:
        return False
    say("downloading Playwright's Chromium (python -m playwright install chromium) ...")
    try:
        done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        say(f"the download took longer than {INSTALL_TIMEOUT} s")
        return False
    if done.returncode != 0:
        errors = [line for line in (done.stdout + done.stderr).splitlines() if line.lstrip().startswith("Error")]
        reason = errors[-1] if errors else "it failed"
        say(f"the download did not work here ({reason.strip()})")
        return False
    return True


def provide_chromium(prefer_system: bool = False) -> str | None:
    if found := servers.find_chromium():
        return found
    if prefer_system and can_use_apt() and apt_install("chromium"):
        return servers.find_chromium()
    if playwright_download() and (found := servers.find_chromium()):
        return found
    if can_use_apt() and apt_install("chromium"):
        return servers.find_chromium()
    return None


def provide_redis(prefer_system: bool = False) -> str | None:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    on_path = shutil.which("redis-server") or os.environ.get("REDIS_SERVER")
    if prefer_system and not on_path and can_use_apt() and apt_install("redis-server"):
        return shutil.which("redis-server")
    if found := servers.find_redis_server():
        return found
    if can_use_apt() and apt_install("redis-server"):
        return shutil.which("redis-server")
    return None


def provide_postgres(prefer_system: bool = False) -> str | None:
    if os.environ.get("DATABASE_URL", "").startswith(servers.POSTGRES_SCHEMES):
        return without_password(os.environ["DATABASE_URL"])
    # Debian's post-install may create and start a cluster on port 5432: harmless, the tests never use it.
    if prefer_system and not servers.find_system_postgres() and can_use_apt() and apt_install("postgresql"):
        return str(servers.find_postgres())
    if found := servers.find_postgres():
        return str(found)
    if can_use_apt() and apt_install("postgresql"):
        return str(servers.find_postgres())
    return None


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


# The one command that installs a part, by package manager: (apt-get, brew, dnf), keyed by Debian's package.
INSTALL_COMMANDS = {
    "chromium": ("sudo apt-get install chromium", "brew install --cask chromium", "sudo dnf install chromium"),
    "redis-server": ("sudo apt-get install redis-server", "brew install redis", "sudo dnf install redis"),
    "postgresql": ("sudo apt-get install postgresql", "brew install postgresql@16",
                   "sudo dnf install postgresql-server"),
}


def how_to_install(package: str) -> str:
    for manager, command in zip(("apt-get", "brew", "dnf"), INSTALL_COMMANDS[package]):
        if shutil.which(manager):
            return command
    return f"install {package} with your system's package manager"


# (what it is, how to find or provide it, its Debian package, the variable that names one instead)
PARTS = (
    ("a browser", provide_chromium, "chromium", "COURSE_CHROMIUM=/path/to/chrome"),
    ("a Redis server", provide_redis, "redis-server", "REDIS_URL=redis://host:port/0"),
    ("PostgreSQL", provide_postgres, "postgresql", "DATABASE_URL=postgresql://user@host:port/db"),
)


def main(argv: list[str]) -> int:
    # In CI, Debian's packages first: the machine is set up once, the same way every time.
    prefer_system = "--system" in argv or os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    missing = []
    for what, provide, package, variable in PARTS:
        if found := provide(prefer_system):
            say(f"{what}: {found}")
        else:
            missing.append(f"{what}: run `{how_to_install(package)}` (or set {variable}), then `make test` again")
    for part in missing:
        print(f"\nThe tests need {part}.", file=sys.stderr)
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
