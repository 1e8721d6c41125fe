"""Benchmark: messages stored per second, SQLite against PostgreSQL, on 1, 2 and 4 daphne processes.

Not a test: a tool that prints a table (and, with --json, writes the figures).

    cd final_project && ../.venv/bin/python bench_store.py [--rooms 10] [--clients-per-room 10]
        [--processes 1,2,4] [--seconds 8] [--databases sqlite,postgresql] [--json PATH] [--project DIR]

Each configuration (a database, a number of processes) gets a fresh database: a SQLite file in a temp
folder with the chat's own settings, or a new database on one durable PostgreSQL server
(coursekit.servers.PostgresServer, fsync on) that the run starts. It is migrated and given users,
rooms and logged-in sessions the way bench.py prepares its own. Then a fresh redis-server with the
pub/sub layer (CHANNEL_LAYER=pubsub), and N plain daphne processes (as deployed: fault_run.Daphne).

Client k joins room k // clients-per-room on process k mod N, so every room spans the processes.
Each client sends in a closed loop: a message, then waits for its acknowledgement (the message frame
carrying its client_id coming back), then the next. After a warm-up, the acknowledgements inside the
measured window, divided by its length, are the stored messages per second. At the end every client
waits for its last acknowledgement, and the rows in rooms_message must equal all the acknowledgements.

--project DIR measures another checkout's final_project (e.g. a git worktree of an older commit) with
this driver; an older chat reads only DATABASE_PATH, so there --databases defaults to sqlite.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PROJECT = Path(__file__).resolve().parent
sys.path.insert(0, str(PROJECT.parent))  # coursekit, for its server processes
from bench import PREPARE  # noqa: E402
from coursekit import servers  # noqa: E402
from fault_run import Daphne  # noqa: E402

LAYER = "pubsub"  # the layer of the measurement
WARMUP = 2.0
DRAIN = 20.0  # seconds a client waits for its last acknowledgement once the window has closed
HANDSHAKE = 30.0
POOL_SIZE = os.environ.get("DATABASE_POOL_SIZE", "10")
CAVEAT = ("The clients run on the same {cpus} cores as the servers, PostgreSQL and Redis: the load generator "
          "(one process, up to {client_cpu:.0%} of a core here) takes CPU the servers would otherwise have. "
          "Load average before the run: {load:.2f}.")

ROOMS = """
from django.contrib.auth.models import User
from rooms.models import Room
owner = User.objects.order_by("pk").first()
for slug in {slugs!r}:
    Room.objects.create(name=slug, slug=slug, created_by=owner)
"""


# --- databases -------------------------------------------------------------------------------------

def sqlite_env(folder: Path, name: str) -> dict[str, str]:
    return {"DATABASE_URL": "", "DATABASE_PATH": str(folder / f"{name}.sqlite3")}


def count_messages(database: dict[str, str]) -> int:
    if database["DATABASE_URL"]:
        import psycopg

        with psycopg.connect(database["DATABASE_URL"]) as connection:
            return connection.execute("SELECT count(*) FROM rooms_message").fetchone()[0]
    with sqlite3.connect(database["DATABASE_PATH"]) as connection:
        return connection.execute("SELECT count(*) FROM rooms_message").fetchone()[0]


def prepare(project: Path, database: dict[str, str], clients: int, slugs: list[str]) -> list[str]:
    """Migrate; users, rooms and one logged-in session per client (bench.py's PREPARE); their session keys."""
    script = PREPARE.format(clients=clients) + ROOMS.format(slugs=slugs)
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=project, capture_output=True,
                          text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", **database})
    if done.returncode:
        sys.exit(f"Could not prepare the database:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1].split()  # PREPARE prints them last


# --- the clients -----------------------------------------------------------------------------------

class Tally:
    """What the clients saw: acknowledgements (when, after how long), error frames, failures."""

    def __init__(self):
        self.acks: list[tuple[float, float]] = []  # (arrival, seconds since the send)
        self.errors: collections.Counter[str] = collections.Counter()
        self.unacknowledged = 0


async def join(port: int, slug: str, session_key: str):
    origin = f"http://127.0.0.1:{port}"
    socket = await connect(f"ws://127.0.0.1:{port}/ws/rooms/{slug}/", origin=origin, max_queue=None,
                           open_timeout=HANDSHAKE, additional_headers={"Cookie": f"sessionid={session_key}"})
    try:
        frame = json.loads(await asyncio.wait_for(socket.recv(), HANDSHAKE))
    except ConnectionClosed as closed:
        sys.exit(f"A client could not join room {slug} on port {port}: closed with {closed.rcvd and closed.rcvd.code}")
    if frame.get("type") != "welcome":
        sys.exit(f"A client expected a welcome in room {slug}, got {frame}")
    return socket


async def wait_for_ack(socket, client_id: str, tally: Tally) -> bool:
    """Read frames until the message frame with `client_id`; False when an error frame refused it."""
    while True:
        frame = json.loads(await socket.recv())
        if frame.get("type") == "error":
            tally.errors[frame.get("code", "?")] += 1
            if frame.get("client_id") == client_id:
                return False
        elif frame.get("type") == "message" and frame.get("client_id") == client_id:
            return True


async def talk(socket, number: int, stop_at: float, tally: Tally) -> None:
    """Send, wait for the acknowledgement, send the next, until `stop_at`."""
    sent = 0
    while time.perf_counter() < stop_at:
        client_id = f"c{number}-{sent}"
        sent += 1
        started = time.perf_counter()
        await socket.send(json.dumps({"type": "message", "text": f"message {sent}", "client_id": client_id}))
        try:
            async with asyncio.timeout(max(0.0, stop_at - started) + DRAIN):
                acknowledged = await wait_for_ack(socket, client_id, tally)
        except (TimeoutError, ConnectionClosed) as failure:
            tally.unacknowledged += 1
            tally.errors[f"client: {type(failure).__name__}"] += 1
            return
        if acknowledged:
            now = time.perf_counter()
            tally.acks.append((now, now - started))


async def load(ports: list[int], slugs: list[str], session_keys: list[str], clients_per_room: int,
               seconds: float) -> dict:
    sockets = await asyncio.gather(*(join(ports[k % len(ports)], slugs[k // clients_per_room], key)
                                     for k, key in enumerate(session_keys)))
    tally = Tally()
    start, cpu = time.perf_counter(), time.process_time()
    window = (start + WARMUP, start + WARMUP + seconds)
    await asyncio.gather(*(talk(socket, k, window[1], tally) for k, socket in enumerate(sockets)))
    client_cpu = (time.process_time() - cpu) / (time.perf_counter() - start)
    await asyncio.gather(*(socket.close() for socket in sockets))
    inside = sorted(latency for arrival, latency in tally.acks if window[0] <= arrival < window[1])
    return {
        "stored_per_s": len(inside) / seconds,
        "ack_p50_ms": 1000 * statistics.median(inside) if inside else None,
        "ack_p99_ms": 1000 * inside[int(0.99 * (len(inside) - 1))] if inside else None,
        "acks_in_window": len(inside), "acks_total": len(tally.acks),
        "unacknowledged": tally.unacknowledged, "error_frames": dict(tally.errors),
        "client_cpu": round(client_cpu, 2),
    }


# --- one configuration -----------------------------------------------------------------------------

def log_errors(daphnes: list[Daphne]) -> list[str]:
    return [line for daphne in daphnes for line in daphne.log_since(0).splitlines()
            if "ERROR" in line or "Traceback" in line]


def measure(project: Path, database: dict[str, str], processes: int, options, folder: Path) -> dict:
    slugs = [f"room-{n}" for n in range(options.rooms)]
    session_keys = prepare(project, database, options.rooms * options.clients_per_room, slugs)
    with ExitStack() as stack:
        redis_binary = servers.find_redis_server() or sys.exit("No redis-server found: `make provision` finds one.")
        redis = stack.enter_context(servers.RedisServer(redis_binary, log=folder / "redis.log"))
        env = {"DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", "DEBUG": "0", "CHAT_RATE_LIMIT": "100000/1",
               "REDIS_URL": redis.url, "CHANNEL_LAYER": LAYER, "DATABASE_POOL_SIZE": POOL_SIZE, **database}
        daphnes = [stack.enter_context(Daphne("chat_site.asgi:application", cwd=project, env=env,
                                              log=folder / f"daphne-{n}.log")) for n in range(processes)]
        figures = asyncio.run(load([daphne.port for daphne in daphnes], slugs, session_keys,
                                   options.clients_per_room, options.seconds))
        figures["server_errors"] = log_errors(daphnes)
    figures["rows"] = count_messages(database)
    return figures


def report_problems(name: str, figures: dict) -> None:
    if figures["rows"] != figures["acks_total"]:
        print(f"  !!! {name}: {figures['rows']} rows in rooms_message but {figures['acks_total']} acknowledgements "
              f"(difference {figures['rows'] - figures['acks_total']:+d})", flush=True)
    if figures["error_frames"] or figures["unacknowledged"]:
        print(f"  !!! {name}: error frames {figures['error_frames']}, "
              f"{figures['unacknowledged']} messages never acknowledged", flush=True)
    if figures["server_errors"]:
        distinct = list(dict.fromkeys(figures["server_errors"]))[:3]
        print(f"  !!! {name}: {len(figures['server_errors'])} ERROR/Traceback lines in the server logs, e.g.\n      "
              + "\n      ".join(distinct), flush=True)


def run_all(project: Path, options) -> list[dict]:
    results = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-store-")))
        postgres = start_postgres(stack) if "postgresql" in options.databases else None
        for kind in options.databases:
            for processes in options.processes:
                name = f"{kind}-{processes}p"
                database = (sqlite_env(folder, name) if kind == "sqlite"
                            else {"DATABASE_URL": postgres.create_database(name.replace("-", "_"))})
                run_folder = folder / name
                run_folder.mkdir()
                figures = {"database": kind, "processes": processes,
                           **measure(project, database, processes, options, run_folder)}
                print(f"  {name}: {figures['stored_per_s']:.0f} stored msg/s (the clients used "
                      f"{figures['client_cpu']:.0%} of a core)", flush=True)
                report_problems(name, figures)
                results.append(figures)
    return results


def start_postgres(stack: ExitStack):
    bindir = servers.find_postgres()
    if bindir is None:
        sys.exit("No PostgreSQL found (initdb, postgres): `make provision` installs one; "
                 "or run with --databases sqlite.")
    # durable: PostgreSQL's own defaults (fsync, synchronous_commit), as deployed, unlike the tests' server.
    return stack.enter_context(servers.PostgresServer(bindir, durable=True))


# --- the report ------------------------------------------------------------------------------------

def print_table(results: list[dict]) -> None:
    ones = {row["database"]: row["stored_per_s"] for row in results if row["processes"] == 1}
    print(f"\n{'database':10} {'processes':>9} {'stored msg/s':>13} {'ack p50 ms':>11} {'ack p99 ms':>11} "
          f"{'vs 1 process':>13}")
    for row in results:
        versus = (f"{row['stored_per_s'] / ones[row['database']]:.2f}x"
                  if ones.get(row["database"]) else "-")
        print(f"{row['database']:10} {row['processes']:>9} {row['stored_per_s']:>13.0f} "
              f"{number(row['ack_p50_ms']):>11} {number(row['ack_p99_ms']):>11} {versus:>13}")
    by_key = {(row["database"], row["processes"]): row["stored_per_s"] for row in results}
    ratios = [f"{processes} process{'es' if processes > 1 else ''} {by_key[('postgresql', processes)] / sqlite:.2f}"
              for (kind, processes), sqlite in by_key.items()
              if kind == "sqlite" and sqlite and ("postgresql", processes) in by_key]
    if ratios:
        print("PostgreSQL/SQLite stored msg/s: " + ", ".join(ratios))


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def parse_arguments(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--clients-per-room", type=int, default=10)
    parser.add_argument("--processes", default="1,2,4", help="comma-separated daphne process counts")
    parser.add_argument("--seconds", type=float, default=8.0, help="the measured window, after a %g s warm-up" % WARMUP)
    parser.add_argument("--databases", help="comma-separated: sqlite,postgresql (default: both; sqlite with --project)")
    parser.add_argument("--json", type=Path, help="also write the figures there")
    parser.add_argument("--project", type=Path, default=PROJECT,
                        help="the final_project folder (or checkout) to measure, default this one")
    options = parser.parse_args(argv)
    options.processes = [int(n) for n in options.processes.split(",")]
    if not (options.project / "manage.py").exists() and (options.project / "final_project" / "manage.py").exists():
        options.project = options.project / "final_project"
    options.project = options.project.resolve()
    if not (options.project / "manage.py").exists():
        parser.error(f"{options.project} holds no manage.py: give a final_project folder or a checkout")
    default = "sqlite,postgresql" if options.project == PROJECT else "sqlite"
    options.databases = (options.databases or default).split(",")
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    settings = (options.project / "chat_site" / "settings.py").read_text()
    if "postgresql" in options.databases and "DATABASE_URL" not in settings:
        parser.error(f"{options.project}'s settings do not read DATABASE_URL: measure it with --databases sqlite")
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse_arguments(argv)
    began, load_before = time.perf_counter(), os.getloadavg()[0]
    clients = options.rooms * options.clients_per_room
    print(f"{options.project}: {options.rooms} rooms x {options.clients_per_room} clients = {clients} clients, "
          f"each sending its next message once the last is acknowledged; {WARMUP:g} s warm-up, "
          f"{options.seconds:g} s measured. Layer: {LAYER} (RedisPubSubChannelLayer), one redis-server; "
          f"PostgreSQL durable, pool of {POOL_SIZE} per process; SQLite with the chat's settings.", flush=True)
    results = run_all(options.project, options)
    print_table(results)
    print(CAVEAT.format(cpus=os.cpu_count(), load=load_before,
                        client_cpu=max(row["client_cpu"] for row in results)))
    took = time.perf_counter() - began
    print(f"The whole run took {took:.0f} s.")
    if options.json:
        options.json.write_text(json.dumps({
            "project": str(options.project), "rooms": options.rooms, "clients_per_room": options.clients_per_room,
            "warmup_s": WARMUP, "seconds": options.seconds, "layer": LAYER, "pool_size": int(POOL_SIZE),
            "cpus": os.cpu_count(), "load_average_before": load_before, "took_s": round(took, 1),
            "results": results}, indent=2) + "\n")
        print(f"Figures written to {options.json}")


if __name__ == "__main__":
    main()
