"""The servers under load, each started on a free port of 127.0.0.1 and stopped afterwards.

  raw        benchmarks/raw_server.py: websockets + uvloop, no Django (the limit)
  tutorial   Channels' tutorial consumer (benchmarks/tutorial_site), on daphne or uvicorn, with the
             in-memory layer or Redis (RedisPubSubChannelLayer, or RedisChannelLayer)
  chat       the final chat (final_project, or --chat-project), on daphne or uvicorn, in-memory or
             pub/sub layer, SQLite with its own settings, or PostgreSQL (durable) for the scale-out

The chat's database is prepared once per run (bench.py's PREPARE: users and logged-in sessions made in
the database itself, plus the rooms and one user with a password for a real login) and copied for each
server: a SQLite file copied, or a PostgreSQL database created from a template.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import servers as coursekit_servers
from coursekit.servers import ChildServer, RedisServer, free_port

from .load import CHAT, RAW, TUTORIAL, Dialect, Seat

ROOT = Path(__file__).resolve().parent.parent
DRIVER_PROJECT = ROOT / "final_project"  # bench.py (PREPARE) and fault_run.py (log_in) come from here
LOCALHOST = "127.0.0.1"
LOGIN_USER = "bench-login"
USERS = 100  # the largest crowd (B: 10 rooms x 10); larger crowds (the storm) reuse the sessions
PROBLEM = re.compile(r"\bERROR\b|Traceback")  # as fault_run.py counts them


def driver_module(name: str):
    """bench.py or fault_run.py of this checkout's final_project, whatever project is measured."""
    qualified = f"benchmarks_driver_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, DRIVER_PROJECT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


# --- what to start ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setup:
    name: str
    family: str                    # raw | tutorial | chat
    server: str | None = None      # daphne | uvicorn
    layer: str | None = None       # memory | pubsub | redis
    database: str | None = None    # sqlite | postgresql (chat only)
    processes: int = 1
    scenarios: tuple[str, ...] = ("storm", "A-sat", "A-fixed", "B-sat", "B-fixed")

    @property
    def dialect(self) -> Dialect:
        return {"raw": RAW, "tutorial": TUTORIAL, "chat": CHAT}[self.family]

    @property
    def path(self) -> str:
        return {"raw": "/rooms/{room}/", "tutorial": "/ws/chat/{room}/", "chat": "/ws/rooms/{room}/"}[self.family]

    def describe(self) -> str:
        parts = [self.family, self.server, self.layer, self.database,
                 f"{self.processes} processes" if self.processes > 1 else None]
        return " / ".join(part for part in parts if part)


def default_setups(redis_layer: bool = False, scaleout_server: str = "uvicorn") -> list[Setup]:
    setups = [Setup("raw", "raw")]
    layers = ["memory", "pubsub"] + (["redis"] if redis_layer else [])
    for server in ("daphne", "uvicorn"):
        setups += [Setup(f"tutorial-{server}-{layer}", "tutorial", server, layer) for layer in layers]
    for server in ("daphne", "uvicorn"):
        setups += [Setup(f"chat-{server}-{layer}", "chat", server, layer, "sqlite") for layer in ("memory", "pubsub")]
    setups += [Setup(f"scaleout-{n}p", "chat", scaleout_server, "pubsub", "postgresql", n, ("A-sat", "B-sat"))
               for n in (1, 2, 4)]
    return setups


# --- one server process ----------------------------------------------------------------------------

@dataclass
class Process(ChildServer):
    """A server command (with `{port}` in it) run from `cwd`, its output in `log`."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [part.format(port=self.port) for part in self.argv]

    def popen_options(self) -> dict:
        return {"cwd": self.cwd, "env": {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}}

    @property
    def pid(self) -> int:
        return self.process.pid


def asgi_command(server: str, app: str) -> list[str]:
    # Both without an access log and with warnings and errors only (the apps' own loggers keep their levels).
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-v", "0", "-b", LOCALHOST, "-p", "{port}", app]
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", app, "--host", LOCALHOST, "--port", "{port}",
                "--ws", "websockets", "--http", "httptools", "--loop", "uvloop",
                "--no-access-log", "--log-level", "warning"]
    raise ValueError(f"unknown server {server!r}")


def raw_server(folder: Path, drop_every: int = 0) -> Process:
    argv = [sys.executable, "-m", "benchmarks.raw_server", "--port", "{port}"]
    if drop_every:
        argv += ["--drop-every", str(drop_every)]
    return Process(argv=argv, cwd=ROOT, env={}, log=folder / "raw.log")


# --- the chat's database ---------------------------------------------------------------------------

def chat_project(given: Path | None) -> Path:
    """The final_project folder to measure: given (a final_project folder or a checkout holding one)."""
    project = (given or DRIVER_PROJECT).resolve()
    if not (project / "manage.py").exists() and (project / "final_project" / "manage.py").exists():
        project = project / "final_project"
    if not (project / "manage.py").exists():
        raise SystemExit(f"{project} holds no manage.py: give a final_project folder or a checkout holding one")
    return project


def reads_database_url(project: Path) -> bool:
    return "DATABASE_URL" in (project / "chat_site" / "settings.py").read_text()


def chat_env(database: dict[str, str]) -> dict[str, str]:
    return {"DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", "DEBUG": "0", "CHAT_RATE_LIMIT": "100000/1",
            # DEBUG=0 makes the cookies Secure; the one real login goes over plain http://127.0.0.1.
            "SECURE_COOKIES": "0", "REDIS_URL": "", "CHANNEL_LAYER": "memory", **database}


def prepare_chat(project: Path, database: dict[str, str]) -> list[str]:
    """Migrate, then users with logged-in sessions (bench.py's PREPARE), the rooms, the login user; the session keys."""
    bench, fault_run = driver_module("bench"), driver_module("fault_run")
    rooms = ["bench"] + [f"room{n}" for n in range(10)]
    script = PREPARE_EXTRA.format(rooms=rooms[1:], login=LOGIN_USER, password=fault_run.PASSWORD)
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", bench.PREPARE.format(clients=USERS) + script],
                          cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **chat_env(database)})
    if done.returncode:
        raise SystemExit(f"Could not prepare the chat's database in {project}:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1].split()  # PREPARE prints the keys last


PREPARE_EXTRA = """
from django.contrib.auth.models import User
from rooms.models import Room
owner = User.objects.order_by("pk").first()
for slug in {rooms!r}:
    Room.objects.create(name=slug, slug=slug, created_by=owner)
User.objects.create_user({login!r}, password={password!r})
"""


@dataclass
class ChatDatabases:
    """The prepared databases of one run (a template per kind, with its session keys), copied for each server."""

    project: Path
    folder: Path
    stack: ExitStack
    session_keys: dict[str, list[str]] = field(default_factory=dict)  # by kind: sqlite, postgresql
    sqlite_template: Path | None = None
    postgres: object | None = None           # coursekit.servers.PostgresServer
    count: int = 0

    def fresh(self, kind: str) -> tuple[dict[str, str], list[str]]:
        """A new database of that kind, a copy of the template: (its environment variables, the session keys)."""
        self.count += 1
        return (self.sqlite() if kind == "sqlite" else self.postgresql()), self.session_keys[kind]

    def sqlite(self) -> dict[str, str]:
        if self.sqlite_template is None:
            self.sqlite_template = self.folder / "template.sqlite3"
            self.session_keys["sqlite"] = prepare_chat(self.project, {"DATABASE_URL": "",
                                                                      "DATABASE_PATH": str(self.sqlite_template)})
        copy = self.folder / f"chat-{self.count}.sqlite3"
        shutil.copyfile(self.sqlite_template, copy)
        return {"DATABASE_URL": "", "DATABASE_PATH": str(copy)}

    def postgresql(self) -> dict[str, str]:
        if self.postgres is None:
            bindir = coursekit_servers.find_postgres()
            if bindir is None:
                raise SystemExit("No PostgreSQL found (initdb, postgres): `make provision` installs one.")
            # durable: PostgreSQL's own defaults (fsync, synchronous_commit), as deployed.
            self.postgres = self.stack.enter_context(coursekit_servers.PostgresServer(
                bindir, durable=True, log=self.folder / "postgres.log"))
            url = self.postgres.create_database("bench_template")
            self.session_keys["postgresql"] = prepare_chat(self.project, {"DATABASE_URL": url})
        name = f"chat_{self.count}"
        from psycopg import sql

        with self.postgres.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE bench_template").format(sql.Identifier(name)))
        return {"DATABASE_URL": self.postgres.database_url(name)}


def count_rows(database: dict[str, str]) -> int:
    if database.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(database["DATABASE_URL"]) as connection:
            return connection.execute("SELECT count(*) FROM rooms_message").fetchone()[0]
    with sqlite3.connect(f"file:{database['DATABASE_PATH']}?mode=ro", uri=True, timeout=20) as connection:
        return connection.execute("SELECT count(*) FROM rooms_message").fetchone()[0]


# --- a deployment: the processes of one setup ------------------------------------------------------

@dataclass
class Deployment:
    setup: Setup
    processes: list[Process]
    redis: RedisServer | None = None
    database: dict[str, str] | None = None
    session_keys: list[str] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.processes[0].port}"

    def seat(self, client: int, room: str) -> Seat:
        """Client number `client` in `room`, on process client mod N (every room spans the processes)."""
        port = self.processes[client % len(self.processes)].port
        cookie = (f"sessionid={self.session_keys[client % len(self.session_keys)]}"
                  if self.setup.family == "chat" else None)
        return Seat(f"ws://{LOCALHOST}:{port}" + self.setup.path.format(room=room), room,
                    f"http://{LOCALHOST}:{port}", cookie)

    def log_offsets(self) -> list[int]:
        return [process.log_size() for process in self.processes]

    def log_problems(self, offsets: list[int]) -> tuple[int, list[str]]:
        """ERROR/Traceback lines written since `offsets`, and the first 3 distinct ones."""
        lines = [line for process, offset in zip(self.processes, offsets)
                 for line in process.log_since(offset).splitlines() if PROBLEM.search(line)]
        distinct = list(dict.fromkeys(re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", line).strip() for line in lines))
        return len(lines), distinct[:3]

    def rows(self) -> int | None:
        return count_rows(self.database) if self.database else None


def deploy(setup: Setup, stack: ExitStack, folder: Path, databases: ChatDatabases | None,
           redis_binary: str | None) -> Deployment:
    """Start the setup's processes (and its Redis); `stack` stops them."""
    folder.mkdir(parents=True, exist_ok=True)
    if setup.family == "raw":
        return Deployment(setup, [stack.enter_context(raw_server(folder))])
    redis, session_keys = None, []
    env: dict[str, str] = {}
    if setup.layer in ("pubsub", "redis"):
        if redis_binary is None:
            raise SystemExit("No redis-server found: `make provision` finds one.")
        redis = stack.enter_context(RedisServer(redis_binary, log=folder / "redis.log"))
        env["REDIS_URL"] = redis.url
    if setup.family == "tutorial":
        env.update({"DJANGO_SETTINGS_MODULE": "benchmarks.tutorial_site.settings", "BENCH_LAYER": setup.layer})
        app, cwd, database = "benchmarks.tutorial_site.asgi:application", ROOT, None
    else:
        database, session_keys = databases.fresh(setup.database)
        env = {**chat_env(database), "CHANNEL_LAYER": setup.layer, **env}
        app, cwd = "chat_site.asgi:application", databases.project
    processes = []
    for n in range(setup.processes):
        process = Process(argv=asgi_command(setup.server, app), cwd=cwd, env=env, log=folder / f"server-{n + 1}.log")
        processes.append(stack.enter_context(process))
    return Deployment(setup, processes, redis, database, session_keys)
