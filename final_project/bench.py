"""Benchmark: one room of 50 clients on one server process (not a test; run `python bench.py`).

It starts daphne on the in-memory layer with a throwaway SQLite file and 50 users, then for rising
send rates sends messages from the clients in turn for a few seconds and checks that every client got
every message. It reports the highest rate with no loss and no backlog, and the time from send to
delivery (p50, p99) at that rate. The baseline is the same fan-out through a trivial relay consumer
(defined below: no login, no validation, no database, just group_send), so the ratio is the price of
the chat's guarantees.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
CLIENTS = 50
STEP_SECONDS = 3.0
RATES = [10, 20, 30, 40, 50, 60, 80, 100, 120, 160]
DRAIN_SECONDS = 3.0


# --- the baseline: a trivial relay, served by the same daphne (`daphne bench:relay_application`) ---

def relay_application():
    import django
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    django.setup()

    class Relay(AsyncWebsocketConsumer):
        async def connect(self):
            await self.channel_layer.group_add("relay", self.channel_name)
            await self.accept()
            await self.send(text_data=json.dumps({"type": "welcome"}))

        async def receive(self, text_data=None, bytes_data=None):
            await self.channel_layer.group_send("relay", {"type": "relay.message", "text": text_data})

        async def relay_message(self, event):
            await self.send(text_data=event["text"])

    return ProtocolTypeRouter({"websocket": URLRouter([path("ws/rooms/<slug>/", Relay.as_asgi())])})


if os.environ.get("BENCH_RELAY"):
    relay = relay_application()


# --- the driver ------------------------------------------------------------------------------------

PREPARE = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from rooms.models import Room
users = [User.objects.create_user(f"user{{n}}") for n in range({clients})]
Room.objects.create(name="bench", slug="bench", created_by=users[0])
keys = []
for user in users:
    session = SessionStore()
    session.update({{"_auth_user_id": str(user.pk), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    "_auth_user_hash": user.get_session_auth_hash()}})
    session.create()
    keys.append(session.session_key)
print(" ".join(keys))
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(app: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
                               cwd=PROJECT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"daphne {app} did not start")


async def run_step(sockets, rate: int, protocol: bool) -> dict:
    """Send at `rate` messages/s for STEP_SECONDS; every socket must receive every message."""
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    received = 0
    expected_total = None
    done = asyncio.Event()

    async def reader(socket):
        nonlocal received
        async for raw in socket:
            frame = json.loads(raw)
            key = frame.get("client_id") if protocol else frame.get("k")
            if key in sent_at:
                latencies.append(time.perf_counter() - sent_at[key])
                received += 1
                if expected_total is not None and received >= expected_total:
                    done.set()

    readers = [asyncio.create_task(reader(socket)) for socket in sockets]
    interval = 1 / rate
    count = int(rate * STEP_SECONDS)
    start = time.perf_counter()
    for n in range(count):
        key = f"{rate}-{n}-{time.time_ns()}"
        sender = sockets[n % len(sockets)]
        frame = {"type": "message", "text": f"message {n}", "client_id": key} if protocol else {"k": key}
        sent_at[key] = time.perf_counter()
        await sender.send(json.dumps(frame))
        delay = start + (n + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    expected_total = count * len(sockets)
    if received < expected_total:
        try:
            await asyncio.wait_for(done.wait(), DRAIN_SECONDS)
        except TimeoutError:
            pass
    elapsed = time.perf_counter() - start
    for task in readers:
        task.cancel()
    latencies.sort()
    return {
        "rate": rate, "sent": count, "expected": expected_total, "received": received,
        "lost": expected_total - received, "elapsed": elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


async def measure(port: int, cookies: list[str], protocol: bool) -> list[dict]:
    from websockets.asyncio.client import connect

    origin = f"http://127.0.0.1:{port}"
    sockets = []
    for cookie in cookies:
        socket = await connect(f"ws://127.0.0.1:{port}/ws/rooms/bench/", origin=origin,
                               additional_headers={"Cookie": f"sessionid={cookie}"}, max_queue=None)
        await socket.recv()  # welcome
        sockets.append(socket)
    await asyncio.sleep(1)
    for socket in sockets:  # drop the presence frames of everyone joining
        while True:
            try:
                await asyncio.wait_for(socket.recv(), 0.05)
            except TimeoutError:
                break
    results = []
    for rate in RATES:
        step = await run_step(sockets, rate, protocol)
        # Sustained: nothing lost, and the deliveries kept up (the step did not overrun by much).
        step["sustained"] = step["lost"] == 0 and step["elapsed"] < STEP_SECONDS + 1.0
        results.append(step)
        print(f"  {rate:4d} msg/s: received {step['received']}/{step['expected']} in {step['elapsed']:.1f} s, "
              f"p50 {step['p50_ms']:.1f} ms, p99 {step['p99_ms']:.1f} ms"
              + ("" if step["sustained"] else "  <- not sustained"), flush=True)
        if not step["sustained"]:
            break
        await asyncio.sleep(1)
    for socket in sockets:
        await socket.close()
    return results


def best(results: list[dict]) -> dict | None:
    sustained = [step for step in results if step["sustained"]]
    return sustained[-1] if sustained else None


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {"DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", "DATABASE_PATH": f"{folder}/bench.sqlite3",
               "CHAT_RATE_LIMIT": "100000/1", "DEBUG": "0", "REDIS_URL": "", "CHANNEL_LAYER": "memory"}
        prepared = subprocess.run([sys.executable, "manage.py", "shell", "-c", PREPARE.format(clients=CLIENTS)],
                                  cwd=PROJECT, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        cookies = prepared.stdout.strip().splitlines()[-1].split()  # after shell's own banner
        figures = {}
        for name, app, extra, protocol in [
            ("chat", "chat_site.asgi:application", {}, True),
            ("baseline relay", "bench:relay", {"BENCH_RELAY": "1"}, False),
        ]:
            print(f"{name}: one room, {CLIENTS} clients, one daphne process, in-memory layer")
            process, port = start_server(app, {**env, **extra})
            try:
                figures[name] = best(asyncio.run(measure(port, cookies, protocol)))
            finally:
                process.terminate()
                process.wait(10)
    chat, relay = figures["chat"], figures["baseline relay"]
    print()
    for name, step in figures.items():
        if step:
            print(f"{name:15s} sustained {step['rate']} msg/s sent ({step['rate'] * CLIENTS} deliveries/s), "
                  f"send-to-delivery p50 {step['p50_ms']:.1f} ms, p99 {step['p99_ms']:.1f} ms")
        else:
            print(f"{name:15s} sustained none of the rates tried")
    if chat and relay:
        print(f"ratio chat/baseline: {chat['rate'] / relay['rate']:.2f} of the throughput")


if __name__ == "__main__":
    main()
