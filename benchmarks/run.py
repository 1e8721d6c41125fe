"""`python -m benchmarks`: every setup through every scenario, repeated, then the report.

    python -m benchmarks [--repeats 3] [--quick] [--only SERVER/SCENARIO ...] [--chat-project DIR]
                         [--warmup 1] [--seconds 4] [--redis-layer] [--out build/bench]

Setups (servers): raw, tutorial-{daphne,uvicorn}-{memory,pubsub}[,-redis], chat-{daphne,uvicorn}-{memory,
pubsub} (SQLite), scaleout-{1,2,4}p (the chat on uvicorn, pub/sub, PostgreSQL). Scenarios: storm,
A-sat, A-fixed, B-sat, B-fixed (scale-out: A-sat, B-sat). --only takes shell patterns, e.g.
`--only raw --only 'chat-*/A-*' --only 'scaleout-*'`. The repeats go round every setup in turn
(repeat 1 of each, then repeat 2 ...), each time on fresh server processes and a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path

from coursekit.servers import ServerError, find_redis_server

from . import load, procstat, report
from .load import Crowd, Limits, LoadError
from .servers import LOGIN_USER, ROOT, ChatDatabases, Deployment, Setup, chat_project, default_setups, deploy, \
    driver_module, reads_database_url

SHAPES = {"A": ["bench"] * 50, "B": [f"room{n // 10}" for n in range(100)]}  # the room of each client
FIXED_RATE = {"A": 50.0, "B": 200.0}  # messages in per second: 2,500 and 2,000 deliveries per second
STORM_SOCKETS = 500
QUIET_DEADLINE = 10.0  # seconds to wait for the server to go idle between scenarios


# --- one deployment through its scenarios ----------------------------------------------------------

async def measure(deployment: Deployment, scenarios: list[str], options, results: dict) -> None:
    """Run the scenarios on the deployment, putting each one's figures in `results` as it ends."""
    limits = Limits()
    pids = deployment.pids
    server_cpu = lambda: procstat.total_cpu(pids)  # noqa: E731
    if "storm" in scenarios:
        results["storm"] = await with_logs(deployment, storm(deployment, limits))
    for shape, rooms in SHAPES.items():
        wanted = [name for name in (f"{shape}-sat", f"{shape}-fixed") if name in scenarios]
        if not wanted:
            continue
        crowd = await Crowd.join([deployment.seat(n, room) for n, room in enumerate(rooms)],
                                 deployment.setup.dialect, limits)
        try:
            check_identity(deployment, crowd)
            await procstat.wait_until_quiet(pids, QUIET_DEADLINE)
            for name in wanted:
                prefix = f"{name}-{time.time_ns()}-"
                if name.endswith("sat"):
                    running = load.saturation(crowd, prefix, options.warmup, options.seconds, server_cpu)
                else:
                    running = load.fixed_load(crowd, prefix, FIXED_RATE[shape], options.warmup, options.seconds,
                                              server_cpu)
                results[name] = await with_logs(deployment, running)
                say(deployment.setup.name, name, results[name])
                await procstat.wait_until_quiet(pids, QUIET_DEADLINE)
        finally:
            await crowd.close()
        await procstat.wait_until_quiet(pids, QUIET_DEADLINE)


async def with_logs(deployment: Deployment, running) -> dict:
    """The scenario's figures, with the server log's ERROR lines and the rows stored meanwhile."""
    offsets, rows = deployment.log_offsets(), deployment.rows()
    figures = await running
    figures["log_errors"], figures["log_error_lines"] = deployment.log_problems(offsets)
    if rows is not None:
        figures["rows_stored"] = deployment.rows() - rows
    return figures


async def storm(deployment: Deployment, limits: Limits) -> dict:
    """500 sockets at once (10 rooms); RSS before and after they are in (after a few sockets came and went)."""
    pids = deployment.pids
    warm = await Crowd.join([deployment.seat(n, f"room{n}") for n in range(5)], deployment.setup.dialect, limits)
    await warm.close()
    await procstat.wait_until_quiet(pids, QUIET_DEADLINE)
    before = procstat.total_rss(pids)
    seats = [deployment.seat(n, f"room{n % 10}") for n in range(STORM_SOCKETS)]
    sockets, figures = await load.storm(seats, deployment.setup.dialect, limits)
    await procstat.wait_until_quiet(pids, QUIET_DEADLINE)
    after = procstat.total_rss(pids)
    await load.close_all(sockets, limits)
    await procstat.wait_until_quiet(pids, QUIET_DEADLINE)
    mib = 1024 * 1024
    figures.update({"rss_before_mib": before / mib, "rss_after_mib": after / mib,
                    "rss_mib_per_1000": (after - before) / mib * 1000 / len(sockets) if sockets else None})
    say(deployment.setup.name, "storm", figures)
    return figures


def check_identity(deployment: Deployment, crowd: Crowd) -> None:
    """The chat must know each client as the user of its session: the prepared sessions are real ones."""
    if deployment.setup.family != "chat":
        return
    wrong = [(client.welcome or {}).get("user") for n, client in enumerate(crowd.clients)
             if (client.welcome or {}).get("user") != f"user{n % len(deployment.session_keys)}"]
    if wrong:
        raise LoadError(f"{len(wrong)} clients were welcomed as someone else than their session's user: {wrong[:3]}")


async def login_check(deployment: Deployment) -> dict:
    """One real login through the login form, then a socket with that session: welcomed as that user."""
    fault_run = driver_module("fault_run")
    http_url = deployment.origin
    try:
        cookie = await asyncio.to_thread(fault_run.log_in, http_url, LOGIN_USER)
    except (SystemExit, OSError) as problem:
        return {"ok": False, "detail": f"login form: {problem}"}
    seat = deployment.seat(0, "bench")
    seat = type(seat)(seat.url, seat.room, seat.origin, cookie)
    try:
        socket, welcome = await load.open_socket(seat, deployment.setup.dialect, Limits())
    except LoadError as problem:
        return {"ok": False, "detail": f"socket after the login: {problem}"}
    await socket.close()
    user = welcome.get("user")
    return {"ok": user == LOGIN_USER, "detail": f"logged in through {http_url}/accounts/login/, welcomed as {user}"}


def say(setup: str, scenario: str, figures: dict) -> None:
    if figures.get("mode") == "storm":
        text = (f"{figures['welcomed']}/{figures['sockets']} welcomed in {number(figures['last_welcomed_s'], 2)} s, "
                f"{figures['failures']} failed, RSS {number(figures.get('rss_mib_per_1000'), 1)} MiB/1000 sockets")
    else:
        text = (f"{figures['deliveries_per_s']:,.0f} deliveries/s, {figures['messages_per_s']:,.0f} msg/s, "
                f"p50 {number(figures['p50_ms'], 1)} ms, p99 {number(figures['p99_ms'], 1)} ms, "
                f"lost {figures['lost']}, dup {figures['duplicated'] + figures['misrouted']}, "
                f"{number(figures['cpu_us_per_delivery'], 1)} us/delivery, client {figures['client_cpu']:.0%} CPU")
    errors = figures.get("log_errors")
    print(f"    {setup:24} {scenario:8} {text}" + (f", {errors} ERROR lines" if errors else ""), flush=True)


def number(value, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


# --- the run ---------------------------------------------------------------------------------------

def selected(setups: list[Setup], patterns: list[str] | None) -> list[tuple[Setup, list[str]]]:
    chosen = []
    for setup in setups:
        scenarios = [scenario for scenario in setup.scenarios
                     if not patterns or any(matches(pattern, setup.name, scenario) for pattern in patterns)]
        if scenarios:
            chosen.append((setup, scenarios))
    return chosen


def matches(pattern: str, setup: str, scenario: str) -> bool:
    server, _, wanted = pattern.partition("/")
    return fnmatch.fnmatchcase(setup, server) and fnmatch.fnmatchcase(scenario, wanted or "*")


def run_all(plan: list[tuple[Setup, list[str]]], options) -> dict:
    runs: dict[str, list[dict]] = {setup.name: [] for setup, _ in plan}
    login = None
    project = chat_project(options.chat_project)
    redis_binary = find_redis_server()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        databases = ChatDatabases(project, folder, stack)
        for repeat in range(options.repeats):
            print(f"repeat {repeat + 1} of {options.repeats}", flush=True)
            for setup, scenarios in plan:
                began = time.perf_counter()
                outcome = {"repeat": repeat + 1, "scenarios": {}}
                try:
                    with ExitStack() as servers:
                        deployment = deploy(setup, servers, folder / f"{setup.name}-{repeat + 1}", databases,
                                            redis_binary)
                        if setup.family == "chat" and login is None:
                            login = load.run(login_check(deployment))
                            print(f"    login check: {'ok' if login['ok'] else 'FAILED'}: {login['detail']}",
                                  flush=True)
                        load.run(measure(deployment, scenarios, options, outcome["scenarios"]))
                except (LoadError, ServerError) as problem:
                    outcome["problem"] = f"{type(problem).__name__}: {problem}"
                    print(f"    {setup.name}: {outcome['problem']}", flush=True)
                outcome["seconds"] = round(time.perf_counter() - began, 1)
                runs[setup.name].append(outcome)
                keep_logs(folder / f"{setup.name}-{repeat + 1}", options.out / "logs")
    return {"runs": runs, "login_check": login}


def keep_logs(folder: Path, logs: Path) -> None:
    """The servers' (and Redis's) logs of one deployment, kept in build/bench/logs/<setup>-<repeat>/."""
    for log in folder.glob("*.log"):
        (logs / folder.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, logs / folder.name / log.name)


def environment(options, project: Path) -> dict:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    commit = subprocess.run(["git", "-C", str(project), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "-C", str(project), "status", "--porcelain", "--", "."],
                             capture_output=True, text=True).stdout.strip()
    if commit and changed:
        commit += " + changes in the working tree"
    return {"cpus": os.cpu_count(), "load_average_before": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "chat_project": str(project), "chat_commit": commit or None,
            "versions": {name: version(name) for name in ("channels", "channels-redis", "daphne", "uvicorn",
                                                          "websockets", "uvloop", "httptools", "Django", "redis")},
            "repeats": options.repeats, "warmup_s": options.warmup, "window_s": options.seconds,
            "fixed_rates_in": FIXED_RATE, "storm_sockets": STORM_SOCKETS,
            "only": options.only, "started": time.strftime("%Y-%m-%d %H:%M:%S")}


def parse_arguments(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--repeats", type=int, default=3, help="the median of this many runs (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repeat (for development)")
    parser.add_argument("--only", action="append", metavar="SERVER/SCENARIO",
                        help="shell patterns of the setups (and scenarios) to run; repeatable")
    parser.add_argument("--chat-project", type=Path, metavar="DIR",
                        help="the final_project (or a checkout holding one) to measure, e.g. a git worktree")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before the window (default 1)")
    parser.add_argument("--seconds", type=float, default=4.0, help="the measured window (default 4)")
    parser.add_argument("--redis-layer", action="store_true", help="the tutorial on RedisChannelLayer too")
    parser.add_argument("--scaleout-server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench", help="where the report goes")
    parser.add_argument("--list", action="store_true", help="print the setups and scenarios, run nothing")
    options = parser.parse_args(argv)
    if options.quick:
        options.repeats = 1
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    plan = selected(default_setups(options.redis_layer, options.scaleout_server), options.only)
    if options.list or not plan:
        for setup, scenarios in plan:
            print(f"{setup.name:24} {setup.describe():48} {' '.join(scenarios)}")
        if not plan:
            print(f"No setup matches {options.only}: see --list", file=sys.stderr)
        return 0 if plan else 2
    project = chat_project(options.chat_project)
    if not reads_database_url(project):
        skipped = [setup.name for setup, _ in plan if setup.database == "postgresql"]
        plan = [(setup, scenarios) for setup, scenarios in plan if setup.database != "postgresql"]
        if skipped:
            print(f"{project}'s settings do not read DATABASE_URL: skipping {', '.join(skipped)}", flush=True)
    env = environment(options, project)
    print(f"{len(plan)} setups x {options.repeats} repeats; {options.warmup:g} s warm-up + {options.seconds:g} s "
          f"measured; the chat from {project} ({env['chat_commit'] or 'not a git checkout'}); "
          f"load average {env['load_average_before']}", flush=True)
    began = time.perf_counter()
    shutil.rmtree(options.out / "logs", ignore_errors=True)
    measured = run_all(plan, options)
    env["took_s"] = round(time.perf_counter() - began, 1)
    results = report.summarize({"environment": env, "setups": {setup.name: {
        "family": setup.family, "server": setup.server, "layer": setup.layer, "database": setup.database,
        "processes": setup.processes, "describe": setup.describe()} for setup, _ in plan}, **measured})
    written = report.write_all(results, options.out)
    print(Path(written["markdown"]).read_text())
    print(f"The run took {env['took_s']:.0f} s. Written: " + ", ".join(str(path) for path in written.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
