"""Fault run: many outside clients on several daphne processes sharing Redis, while things break.

Not a test: a tool that runs the chat the way it is deployed and counts what went wrong.

    cd final_project && ../.venv/bin/python fault_run.py [--sockets 200] [--seconds 60]
                                                          [--processes 2] [--layer redis|pubsub]

It starts its own redis-server (a free port, no persistence), a fresh SQLite file (users, a few
public rooms) and `--processes` daphne processes, each logging to its own file. Then it opens
`--sockets` WebSocket clients (the `websockets` library) that know only docs/final/protocol.md and
the login form. Each behaves like the room page: reads `welcome`, syncs after the last id it has seen
without a gap, sends messages with a fresh uuid `client_id` (at most 10 in 11 s), takes a `message`
frame carrying its own `client_id` as the acknowledgement, resends what is unacknowledged with the
same `client_id` after a reconnect, and reconnects with the page's backoff after any close. 40% stay
idle for the whole run: they catch idle sockets being closed.

The run is quiet (nobody sends) for its first and last 20%: a process whose channel layer hears
nothing for a while is what closes idle sockets. Faults, at set fractions of `--seconds`: 30%: 20% of
the clients drop their TCP connection (no close frame) and, while the presence broadcasts of that go
round, 10% more leave cleanly and come back 2-4 s later; 45%: Redis is stopped, and started 2 s later
on the same port; 70%: one daphne process is SIGKILLed and started again on the same port. A fault's
window runs from its start to 5 s after the server is back.

At the end every client stops sending and gets what it sent acknowledged; then each syncs a last time
from its gapless point and closes cleanly. After PRESENCE_TTL + 3 s (or --wait) it counts:
  sockets opened, messages sent (distinct client_ids), acknowledged;
  lost: acknowledged but not in the database, or acknowledged (before the final syncs), newer than the
    client's first welcome, in its room, and yet never shown to it (live or replayed) by its final sync;
  doubled: two rows for one client_id, one client_id shown under two ids, or one id delivered twice on
    one connection where neither copy can be a sync replay or the answer to a resend;
  closes the client did not cause, with their codes: during a planned fault, or outside any fault
    window (unplanned; failed handshakes included);
  ghost presence: members of the `presence:*` sorted sets whose deadline (score) is still ahead, and
    the users a fresh client's `welcome` lists as online besides itself;
  group members left: ZCARD of the channel layer's `asgi:group:*` keys (redis layer only);
  lines with "ERROR" or "Traceback" in each server log, and the first 3 distinct ones.
The exit status is 0 only when lost, doubled, unplanned closes, ghosts, group members, ERROR lines,
clients left without a final sync and frames the protocol page does not describe are all 0.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import http.cookiejar
import json
import math
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

PROJECT = Path(__file__).resolve().parent
sys.path.insert(0, str(PROJECT.parent))  # coursekit, for its server processes
from coursekit.servers import DaphneServer, RedisServer, find_redis_server  # noqa: E402

PASSWORD = "correct-horse-battery-9"
OBSERVER = "observer"            # a user no client uses: it asks who is online at the end
PRESENCE_TTL = 6.0
RATE = (10, 11.0)                # messages per seconds a client allows itself (the server's limit is 10 in 10 s)
SYNC_BATCH = 500
QUIET = (0.2, 0.8)               # active clients talk between these fractions of --seconds, not before or after
HANDSHAKE_WAIT = 15.0
FAULT_MARGIN = 5.0               # a fault's window lasts this long after the server is back
REFUSED = {4401, 4403, 4404}


# --- servers ---------------------------------------------------------------------------------------

class Daphne(DaphneServer):
    """Plain `python -m daphne`, as deployed (the course's tests use a watched daphne)."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), self.app]


def prepare_database(path: Path, usernames: list[str], rooms: list[str]) -> None:
    """Migrate a fresh SQLite file; one real password hash, shared by every user (hashing 200 costs a minute)."""
    script = ("from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
              "from django.contrib.auth.models import User\nfrom rooms.models import Room\n"
              f"names = {usernames!r}\nfirst = User.objects.create_user(names[0], password={PASSWORD!r})\n"
              "User.objects.bulk_create([User(username=name, password=first.password) for name in names[1:]])\n"
              f"[Room.objects.create(name=slug, slug=slug, created_by=first) for slug in {rooms!r}]\n")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=PROJECT, capture_output=True,
                          text=True, env={**os.environ, "DATABASE_PATH": str(path),
                                          "DJANGO_SETTINGS_MODULE": "chat_site.dev_settings"})
    if done.returncode:
        sys.exit(f"Could not prepare the database:\n{done.stderr}")


def log_in(http_url: str, username: str) -> str:
    """Log in through the login form as a browser would; the Cookie header for the sockets."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{http_url}/accounts/login/"
    opener.open(url, timeout=60).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    opener.open(urllib.request.Request(url, data=form.encode(), headers={"Referer": url}), timeout=60).read()
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if session is None:
        sys.exit(f"Logging in as {username} gave no session cookie.")
    return f"sessionid={session}"


# --- faults ----------------------------------------------------------------------------------------

@dataclass
class Window:
    name: str
    start: float                 # time.monotonic(), like Close.at
    end: float = math.inf
    process: int | None = None   # None: every process is affected


@dataclass
class Close:
    at: float                    # time.monotonic()
    process: int
    code: str                    # a close code, or what went wrong in the handshake
    idle: bool
    cause: str | None            # "drop", "leave", "end" when the client caused it


class Clock:
    """Seconds since the faults' timeline started (reset once every client is connected)."""

    def __init__(self):
        self.zero = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.zero

    def at(self, moment: float) -> float:
        return moment - self.zero

    async def until(self, moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - self.now()))


# --- the client ------------------------------------------------------------------------------------

class Connection:
    """One socket: its sync state, the ids that came while no sync was running, the client_ids resent on it."""

    def __init__(self, socket):
        self.socket = socket
        self.syncing = False
        self.batch = 0                   # messages since the last sync frame: 500 means "sync again"
        self.sync_done = asyncio.Event()
        self.live_ids: set[int] = set()
        self.resent: set[str] = set()


class ChatClient:
    def __init__(self, number: int, username: str, cookie: str, room: str, process: int, server: Daphne,
                 idle: bool, pace: float, talk: asyncio.Event, rng: random.Random):
        self.number, self.username, self.cookie, self.room = number, username, cookie, room
        self.process, self.server, self.idle, self.pace, self.rng = process, server, idle, pace, rng
        self.talk = talk                            # set while active clients may send
        self.pending: dict[str, str] = {}           # client_id -> text: sent, not yet acknowledged
        self.sent: set[str] = set()
        self.acked: dict[str, int] = {}             # client_id -> message id
        self.seen: dict[int, str] = {}              # message id -> client_id: everything shown
        self.ids_of: dict[str, set[int]] = collections.defaultdict(set)
        self.doubled: list[str] = []
        self.errors: collections.Counter = collections.Counter()   # error frames by code
        self.bad_frames = 0                                        # frames the protocol page does not describe
        self.closes: list[Close] = []
        self.first_id: int | None = None            # welcome's last_id the first time: the view starts after it
        self.gapless = 0                            # every id up to this one has been shown
        self.final_synced: int | None = None
        self.sockets_opened = 0
        self.sends: collections.deque[float] = collections.deque()
        self.connection: Connection | None = None
        self.cause: str | None = None               # why the client itself is closing the current socket
        self.away = asyncio.Event()
        self.away.set()
        self.finishing = False
        self.done = False
        self.connected = asyncio.Event()

    # --- the life of the client: connect, talk, reconnect -----------------------------------------

    async def run(self) -> None:
        attempt = 0
        while not self.done:
            await self.away.wait()
            welcomed = await self.one_socket()
            if self.done:
                return
            if welcomed:
                attempt = 0
            if self.cause is None and self.closes and self.closes[-1].code in {str(code) for code in REFUSED}:
                return  # the page gives up on a refusal too
            self.cause = None
            # The page's backoff: 0.5 s, 1 s, 2 s ... up to 10 s, with jitter.
            await asyncio.sleep(min(10.0, 0.5 * 2 ** attempt) * (0.5 + self.rng.random() / 2))
            attempt += 1

    async def one_socket(self) -> bool:
        """Open a socket and talk on it until it closes; whether a welcome came."""
        url = f"{self.server.ws_url}/ws/rooms/{self.room}/"
        try:
            socket = await connect(url, origin=self.server.origin, additional_headers={"Cookie": self.cookie},
                                   open_timeout=HANDSHAKE_WAIT, ping_interval=None, close_timeout=5)
        except (OSError, TimeoutError, InvalidHandshake) as error:
            self.record_close(handshake_problem(error))
            return False
        self.sockets_opened += 1
        if self.done:  # finished while the handshake was under way
            self.cause = "end"
            await socket.close()
            return True
        self.connection = connection = Connection(socket)
        sender, welcomed = None, False
        try:
            welcome = await self.welcome(socket)
            welcomed = True
            if self.first_id is None:
                self.first_id = self.gapless = welcome["last_id"]
            self.connected.set()
            sender = asyncio.create_task(self.sender(connection))
            await self.start_sync(connection, self.gapless)
            while True:
                frame = await socket.recv()
                try:
                    self.handle(json.loads(frame), connection)
                except (KeyError, TypeError, ValueError, AttributeError):
                    self.bad_frames += 1
        except ConnectionClosed as closed:
            self.record_close(str(closed.rcvd.code) if closed.rcvd else "1006 (no close frame)")
        except (TimeoutError, KeyError, TypeError, ValueError, AttributeError) as problem:
            self.record_close(f"no welcome ({problem or 'timeout'})")
            socket.transport.abort()
        finally:
            self.connected.clear()
            self.connection = None
            if sender:
                sender.cancel()
        return welcomed

    async def welcome(self, socket) -> dict:
        """The welcome frame (an error frame may come first; a close ends the wait)."""
        deadline = time.monotonic() + HANDSHAKE_WAIT
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), max(0.01, deadline - time.monotonic())))
            if frame.get("type") == "welcome":
                return frame
            if frame.get("type") != "error":
                raise ValueError(f"a {frame.get('type')!r} frame before the welcome")
            self.errors[frame.get("code")] += 1

    def record_close(self, code: str) -> None:
        self.closes.append(Close(time.monotonic(), self.process, code, self.idle, self.cause))

    # --- frames from the server -------------------------------------------------------------------

    def handle(self, frame: dict, connection: Connection) -> None:
        kind = frame.get("type")
        if kind == "message":
            self.on_message(frame, connection)
        elif kind == "synced":
            self.gapless = max(self.gapless, frame["last_id"])
            if connection.batch >= SYNC_BATCH:  # more to replay
                asyncio.ensure_future(self.start_sync(connection, frame["last_id"]))
            else:
                connection.syncing = False
                connection.sync_done.set()
        elif kind == "error":
            self.errors[frame.get("code")] += 1

    def on_message(self, frame: dict, connection: Connection) -> None:
        message_id, client_id = frame["id"], frame.get("client_id")
        if connection.syncing:  # a replay, or a live frame that came during the sync: a second copy is fine
            connection.batch += 1
        elif message_id in connection.live_ids and client_id not in connection.resent:
            self.doubled.append(f"id {message_id} delivered twice on one socket")
        else:
            connection.live_ids.add(message_id)
        if self.seen.get(message_id, client_id) != client_id:
            self.doubled.append(f"id {message_id} came with two client_ids")
        self.seen[message_id] = client_id
        self.ids_of[client_id].add(message_id)
        if len(self.ids_of[client_id]) == 2:
            self.doubled.append(f"client_id {client_id} shown under ids {sorted(self.ids_of[client_id])}")
        if client_id in self.sent and frame.get("user") == self.username:
            self.pending.pop(client_id, None)
            self.acked.setdefault(client_id, message_id)

    # --- frames to the server ---------------------------------------------------------------------

    async def start_sync(self, connection: Connection, after: int) -> None:
        connection.syncing, connection.batch = True, 0
        connection.sync_done.clear()
        try:
            await connection.socket.send(json.dumps({"type": "sync", "after": after}))
        except ConnectionClosed:
            pass  # the reader hears of it

    async def sender(self, connection: Connection) -> None:
        """After the sync: resend what is unacknowledged, then (active clients) send now and then."""
        try:
            await connection.sync_done.wait()
            await self.resend_pending(connection)
            while not (self.idle or self.finishing):
                await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.pace)
                await self.talk.wait()
                if self.finishing:
                    return
                client_id = uuid.uuid4().hex
                self.sent.add(client_id)
                self.pending[client_id] = f"{self.username} in {self.room}: message {len(self.sent)}"
                await self.send_message(connection, client_id)
        except ConnectionClosed:
            pass  # the reader hears of it and reconnects

    async def resend_pending(self, connection: Connection) -> None:
        for client_id in list(self.pending):
            if client_id in self.pending:
                connection.resent.add(client_id)
                await self.send_message(connection, client_id)

    async def send_message(self, connection: Connection, client_id: str) -> None:
        limit, window = RATE
        while len(self.sends) >= limit:
            wait = self.sends[0] + window - time.monotonic()
            if wait <= 0:
                self.sends.popleft()
            else:
                await asyncio.sleep(wait)
        self.sends.append(time.monotonic())
        frame = {"type": "message", "text": self.pending[client_id], "client_id": client_id}
        await connection.socket.send(json.dumps(frame))

    # --- what the run does to the client ----------------------------------------------------------

    def drop(self) -> bool:
        """Lose the TCP connection: no close frame."""
        if not self.connected.is_set():
            return False
        self.cause = "drop"
        self.connection.socket.transport.abort()
        return True

    async def leave(self, seconds: float) -> bool:
        """Close cleanly, stay away for `seconds`, come back."""
        if not self.connected.is_set():
            return False
        self.cause = "leave"
        self.away.clear()
        asyncio.get_running_loop().call_later(seconds, self.away.set)
        await self.connection.socket.close()
        return True

    async def settle(self, deadline: float) -> None:
        """Stop sending new messages; get every one sent acknowledged (resent after waiting 5 s for it)."""
        self.finishing = True
        while self.pending and time.monotonic() < deadline:
            connection = await self.synced_connection(deadline)
            if connection and not await self.all_acked(connection, min(deadline, time.monotonic() + 5)):
                try:
                    await self.resend_pending(connection)
                except ConnectionClosed:
                    continue
                await self.all_acked(connection, deadline)

    async def final_sync(self, deadline: float) -> None:
        """Sync once more from the gapless point (as after a reconnect), then close cleanly."""
        while self.final_synced is None and time.monotonic() < deadline:
            connection = await self.synced_connection(deadline)
            if connection:
                await self.start_sync(connection, self.gapless)
                if await self.synced(connection, deadline):
                    self.final_synced = self.gapless
        self.done = True
        if self.connection is not None:
            self.cause = "end"
            await self.connection.socket.close()

    async def synced_connection(self, deadline: float) -> Connection | None:
        """The open socket once its reconnect sync is over, or None (no socket, or it closed meanwhile)."""
        try:
            await asyncio.wait_for(self.connected.wait(), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        connection = self.connection
        return connection if connection and await self.synced(connection, deadline) else None

    async def synced(self, connection: Connection, deadline: float) -> bool:
        """Wait until the sync under way ends, the socket closes, or the deadline; whether the sync ended."""
        waits = [asyncio.ensure_future(connection.sync_done.wait()),
                 asyncio.ensure_future(connection.socket.wait_closed())]
        await asyncio.wait(waits, timeout=max(0.01, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        return connection.sync_done.is_set() and connection is self.connection

    async def all_acked(self, connection: Connection, deadline: float) -> bool:
        while self.pending and connection is self.connection and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return not self.pending


def handshake_problem(error: Exception) -> str:
    if isinstance(error, InvalidStatus):
        return f"handshake: HTTP {error.response.status_code}"
    if isinstance(error, TimeoutError):
        return "handshake: timeout"
    return f"handshake: {type(error).__name__}"


# --- the run ---------------------------------------------------------------------------------------

@dataclass
class Run:
    options: argparse.Namespace
    folder: Path
    redis_server: RedisServer
    servers: list[Daphne]
    clients: list[ChatClient] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    talk: asyncio.Event = field(default_factory=asyncio.Event)
    observer_cookie: str = ""
    settled: dict[str, int] = field(default_factory=dict)   # client_id -> id: acknowledged before the final syncs

    def say(self, text: str) -> None:
        print(f"  t={self.clock.now():5.1f} s  {text}", flush=True)


async def open_clients(run: Run, rng: random.Random) -> list[asyncio.Task]:
    options = run.options
    users = [f"user{n}" for n in range(options.users)]
    everyone = users + [OBSERVER]  # one login per user, spread over the processes
    cookies = dict(zip(everyone, await asyncio.gather(*(
        asyncio.to_thread(log_in, run.servers[n % len(run.servers)].http_url, user)
        for n, user in enumerate(everyone)))))
    rooms = room_names(options)
    idle = set(rng.sample(range(options.sockets), round(0.4 * options.sockets)))
    for n in range(options.sockets):
        process = n % len(run.servers)
        run.clients.append(ChatClient(
            n, users[n % len(users)], cookies[users[n % len(users)]], rooms[(n // len(run.servers)) % len(rooms)],
            process, run.servers[process], n in idle, options.pace, run.talk, random.Random(rng.random())))
    run.observer_cookie = cookies[OBSERVER]
    tasks = []
    for client in run.clients:
        tasks.append(asyncio.create_task(client.run()))
        await asyncio.sleep(0.01)
    return tasks


async def restart_redis(run: Run) -> None:
    window = Window("Redis restart", time.monotonic())
    run.windows.append(window)
    await asyncio.to_thread(run.redis_server.stop)
    await asyncio.sleep(2)
    await asyncio.to_thread(run.redis_server.start)
    window.end = time.monotonic() + FAULT_MARGIN
    run.say(f"Redis stopped at t={run.clock.at(window.start):.1f} s, started again "
            f"(fault window until t={run.clock.at(window.end):.1f} s)")


async def kill_daphne(run: Run) -> None:
    index = len(run.servers) - 1
    server = run.servers[index]
    window = Window(f"daphne {index + 1} SIGKILL", time.monotonic(), process=index)
    run.windows.append(window)
    server.process.kill()
    await asyncio.to_thread(server.process.wait)
    server.stop()  # forget the dead process
    await asyncio.to_thread(server.start)
    window.end = time.monotonic() + FAULT_MARGIN
    run.say(f"daphne {index + 1} SIGKILLed at t={run.clock.at(window.start):.1f} s, listening again "
            f"(fault window for its clients until t={run.clock.at(window.end):.1f} s)")


async def drop_and_leave(run: Run, rng: random.Random) -> None:
    dropped_count = round(0.2 * len(run.clients))
    chosen = rng.sample(run.clients, dropped_count + round(0.1 * len(run.clients)))
    dropped = sum(client.drop() for client in chosen[:dropped_count])
    await asyncio.sleep(0.2)  # the presence broadcasts of the drops and of the reconnects are under way
    left = await asyncio.gather(*(client.leave(rng.uniform(2, 4)) for client in chosen[dropped_count:]))
    run.say(f"dropped the TCP connection of {dropped} clients; {sum(left)} more left cleanly (back in 2-4 s)")


async def faults(run: Run, rng: random.Random) -> None:
    seconds = run.options.seconds
    await run.clock.until(QUIET[0] * seconds)
    run.talk.set()
    run.say("the active clients start talking")
    await run.clock.until(0.3 * seconds)
    await drop_and_leave(run, rng)
    await run.clock.until(0.45 * seconds)
    await restart_redis(run)
    await run.clock.until(0.70 * seconds)
    await kill_daphne(run)
    await run.clock.until(QUIET[1] * seconds)
    run.talk.clear()
    run.say("the active clients stop sending new messages: quiet until the end")
    await run.clock.until(seconds)


async def observe_online(run: Run) -> dict[str, list[str]]:
    """A fresh client per room: who its welcome lists as online besides itself."""
    ghosts = {}
    for n, room in enumerate(room_names(run.options)):
        server = run.servers[n % len(run.servers)]
        try:
            async with connect(f"{server.ws_url}/ws/rooms/{room}/", origin=server.origin, ping_interval=None,
                               additional_headers={"Cookie": run.observer_cookie},
                               open_timeout=HANDSHAKE_WAIT) as socket:
                welcome = json.loads(await asyncio.wait_for(socket.recv(), HANDSHAKE_WAIT))
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, ValueError) as problem:
            sys.exit(f"The fresh client found no welcome in {room} on daphne {n % len(run.servers) + 1}: "
                     f"{type(problem).__name__} {problem}")
        others = [name for name in welcome.get("online", []) if name != OBSERVER]
        if others:
            ghosts[room] = others
    return ghosts


async def drive(run: Run) -> dict:
    rng = random.Random(run.options.seed)
    tasks = await open_clients(run, rng)
    connect_deadline = time.monotonic() + 60
    while sum(c.connected.is_set() for c in run.clients) < len(run.clients) and time.monotonic() < connect_deadline:
        await asyncio.sleep(0.2)
    run.clock = Clock()
    run.say(f"{sum(c.connected.is_set() for c in run.clients)} of {len(run.clients)} clients connected; "
            f"{sum(c.idle for c in run.clients)} of them stay idle")
    await faults(run, rng)
    run.say("stopping: every client waits for its acknowledgements")
    await asyncio.gather(*(client.settle(time.monotonic() + 30) for client in run.clients))
    # From here on nothing new is stored: every client's final sync must show all of these.
    run.settled = {cid: mid for client in run.clients for cid, mid in client.acked.items()}
    run.say(f"{len(run.settled)} messages acknowledged; every client syncs a last time and closes")
    await asyncio.gather(*(client.final_sync(time.monotonic() + 20) for client in run.clients))
    _, stuck = await asyncio.wait(tasks, timeout=10)
    for task in stuck:
        task.cancel()
    run.say(f"everyone left; waiting {run.options.wait:g} s")
    await asyncio.sleep(run.options.wait)
    leftovers = redis_leftovers(run)
    leftovers["welcome"] = await observe_online(run)
    return leftovers


def room_names(options) -> list[str]:
    return [f"room{n}" for n in range(options.rooms)]


# --- counting --------------------------------------------------------------------------------------

def stored_messages(database: Path) -> list[tuple[int, str, str, str]]:
    """(id on the wire: the number in its room, room slug, username, client_id) of every stored message, read only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute("SELECT m.seq, r.slug, u.username, m.client_id FROM rooms_message m "
                          "JOIN rooms_room r ON r.id = m.room_id JOIN auth_user u ON u.id = m.user_id").fetchall()


def redis_leftovers(run: Run) -> dict:
    client = redis.Redis.from_url(run.redis_server.url, decode_responses=True)
    now = time.time()
    presence_live, presence_all, groups = [], 0, collections.Counter()
    for key in client.scan_iter("presence:*"):
        if client.type(key) == "zset":
            members = client.zrange(key, 0, -1, withscores=True)
            presence_all += len(members)
            presence_live += [f"{key} {member}" for member, deadline in members if deadline > now]
    newest_add = 0.0
    if run.options.layer == "redis":
        for key in client.scan_iter("asgi:group:*"):
            for channel, added in client.zrange(key, 0, -1, withscores=True):
                groups[channel.split("!")[0]] += 1  # by the layer instance (one per process) that made it
                newest_add = max(newest_add, added)
    client.close()
    return {"presence_live": presence_live, "presence_all": presence_all, "groups": groups,
            "newest group add": now - newest_add}


PROBLEM = re.compile(r"\bERROR\b|Traceback")  # the log level ERROR (not "..._ERROR" in a traceback's code)
CHAINED = ("During handling", "The above exception", "Traceback")


def log_problems(log: Path) -> tuple[int, list[str]]:
    """How many lines have ERROR or Traceback; the distinct problems: a traceback (chain) told as the line
    before it and its final exception, or an ERROR line without a traceback."""
    lines = [normalized(line) for line in log.read_text(errors="replace").splitlines()]
    count, distinct = 0, []
    for n, line in enumerate(lines):
        if not PROBLEM.search(line):
            continue
        count += 1
        before = next((earlier for earlier in reversed(lines[:n]) if earlier), "")
        after = lines[n + 1] if n + 1 < len(lines) else ""
        if "Traceback" in line and not before.startswith(CHAINED):
            exception = final_exception(lines, n)
            name, _, message = exception.partition(": ")
            text = f"{before} -> {name if message and message in before else exception}"
        elif "Traceback" not in line and not after.startswith("Traceback"):
            text = line
        else:
            continue  # a later link of a chain, or an ERROR line whose traceback tells the story
        if text not in distinct:
            distinct.append(text)
    return count, distinct


def normalized(line: str) -> str:
    """Without the timestamp, the ports, the room numbers: one problem, one text."""
    line = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", line)
    line = re.sub(r"127\.0\.0\.1(:|', )\d+", r"127.0.0.1\1PORT", line)
    return re.sub(r"\broom\d+\b", "roomN", line)


def final_exception(lines: list[str], start: int) -> str:
    """The last exception of the traceback (chain) that starts at lines[start]."""
    for n in range(start + 1, len(lines)):
        line = lines[n]
        if line and not line.startswith(" ") and not line.startswith(CHAINED):
            following = next((later for later in lines[n + 1:n + 3] if later), "")
            if not following.startswith(CHAINED):
                return line
    return "(end of log)"


def classify(close: Close, windows: list[Window]) -> str:
    if close.cause:
        return "self"
    for window in windows:
        if window.start <= close.at <= window.end and window.process in (None, close.process):
            return "fault"
    return "unplanned"


def message_figures(run: Run, rows: list[tuple[int, str, str, str]]) -> dict:
    clients = run.clients
    ids_of = collections.defaultdict(list)
    for message_id, _, _, client_id in rows:
        ids_of[client_id].append(message_id)
    sent = set().union(*(client.sent for client in clients))
    acked = {cid: mid for client in clients for cid, mid in client.acked.items()}
    missing = 0
    for client in clients:
        if client.final_synced is not None:
            should_see = {mid for mid, room, _, cid in rows
                          if room == client.room and mid > client.first_id and cid in run.settled}
            missing += len(should_see - client.seen.keys())
    return {"sent": len(sent), "acked": len(acked), "missing": missing,
            "stored, never acknowledged": sum(1 for cid in sent if cid in ids_of and cid not in acked),
            "not stored": sum(1 for cid in acked if cid not in ids_of),
            "two rows": sum(len(ids) - 1 for ids in ids_of.values() if len(ids) > 1),
            "seen twice": [text for client in clients for text in client.doubled]}


def close_figures(run: Run) -> dict[str, collections.Counter]:
    kinds = {"self": [], "fault": [], "unplanned": []}
    for close in (close for client in run.clients for close in client.closes):
        kinds[classify(close, run.windows)].append(close)
    unplanned = collections.defaultdict(list)
    for close in kinds["unplanned"]:
        unplanned[f"{close.code}, {'idle' if close.idle else 'sending'} client"].append(run.clock.at(close.at))
    return {"unplanned": unplanned,
            "fault": collections.Counter(close.code for close in kinds["fault"]),
            "self": collections.Counter(f"{close.cause}: {close.code}" for close in kinds["self"])}


def count(run: Run, database: Path, leftovers: dict) -> tuple[list[tuple[str, object]], dict[str, int]]:
    clients = run.clients
    m = message_figures(run, stored_messages(database))
    closes = close_figures(run)
    errors = sum((client.errors for client in clients), collections.Counter())
    bad_frames = sum(client.bad_frames for client in clients)
    logs = {f"daphne {n + 1}": log_problems(server.log) for n, server in enumerate(run.servers)}
    ghosts_redis = len(leftovers["presence_live"])
    ghosts_welcome = sum(len(names) for names in leftovers["welcome"].values())
    groups = sum(leftovers["groups"].values())
    verdict = {"lost": m["not stored"] + m["missing"], "doubled": m["two rows"] + len(m["seen twice"]),
               "unplanned closes": sum(len(times) for times in closes["unplanned"].values()),
               "ghosts": ghosts_redis + ghosts_welcome, "group members": groups,
               "ERROR lines": sum(n for n, _ in logs.values()),
               "clients without a final sync": sum(client.final_synced is None for client in clients),
               "frames outside the protocol": bad_frames}

    def listed(counter) -> str:
        return ", ".join(f"{key} x{n}" for key, n in counter.most_common()) or "0"

    table = [
        ("sockets opened", sum(client.sockets_opened for client in clients)),
        ("messages sent (distinct client_ids)", m["sent"]),
        ("acknowledged", m["acked"]),
        ("  not acknowledged at the end", m["sent"] - m["acked"]),
        ("  stored, never acknowledged", m["stored, never acknowledged"]),
        ("lost", f"{verdict['lost']}  (acknowledged, not stored: {m['not stored']}; "
                 f"missing from a client's view: {m['missing']})"),
        ("doubled", f"{verdict['doubled']}  (two rows for one client_id: {m['two rows']}; "
                    f"seen by clients: {len(m['seen twice'])})"),
        *[(f"    {text}", "") for text in m["seen twice"][:3]],
        ("unplanned closes (outside any fault)", verdict["unplanned closes"]),
        *[(f"    {kind}", f"{len(times)}  (t = {', '.join(f'{t:.1f}' for t in sorted(times)[:8])}"
                         f"{' ...' if len(times) > 8 else ''})") for kind, times in closes["unplanned"].items()],
        ("closes during planned faults", sum(closes["fault"].values())),
        *[(f"    {code}", n) for code, n in closes["fault"].most_common()],
        ("closes the clients caused", listed(closes["self"])),
        ("error frames received", listed(errors)),
        ("frames outside the protocol", bad_frames),
        ("ghost presence entries", f"{verdict['ghosts']}  (live presence:* members: {ghosts_redis} of "
                                   f"{leftovers['presence_all']}; online in a fresh welcome: {ghosts_welcome})"),
        *[(f"    {room}", ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else ""))
          for room, names in leftovers["welcome"].items()],
        ("group members left", "skipped (pubsub)" if run.options.layer != "redis" else
         f"{groups}  (channels of {len(leftovers['groups'])} layer instances; the newest added "
         f"{leftovers['newest group add']:.0f} s ago)" if groups else 0),
        ("ERROR/Traceback lines in server logs", verdict["ERROR lines"]),
    ]
    for name, (n, distinct) in logs.items():
        table.append((f"    {name}: {n} lines, {len(distinct)} distinct problems", ""))
        table += [(f"      {text[:160]}", "") for text in distinct[:3]]
    table.append(("clients without a final sync", verdict["clients without a final sync"]))
    return table, verdict


def print_table(table: list[tuple[str, object]]) -> None:
    for label, value in table:
        print(f"{label:<44}{value}")


# --- main ------------------------------------------------------------------------------------------

def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--layer", choices=["redis", "pubsub"], default="redis")
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--users", type=int, help="default: a quarter of the sockets (users have several tabs)")
    parser.add_argument("--pace", type=float, default=8.0, help="mean seconds between an active client's messages")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--wait", type=float, default=PRESENCE_TTL + 3,
                        help="seconds between everyone leaving and the count of leftovers (default: PRESENCE_TTL + 3)")
    options = parser.parse_args()
    options.users = options.users or max(2, math.ceil(options.sockets / 4))
    if QUIET[0] * options.seconds < 6.5:
        print(f"Note: with --seconds {options.seconds:g} the quiet start lasts less than 6.5 s (the layer's 5 s "
              "blocking read and a margin): idle sockets closed by it may go unseen.")
    return options


def main() -> int:
    options = parse_options()
    binary = find_redis_server()
    if binary is None:
        sys.exit("No redis-server found (set REDIS_SERVER).")
    folder = Path(tempfile.mkdtemp(prefix="fault-run-"))
    database = folder / "db.sqlite3"
    prepare_database(database, [f"user{n}" for n in range(options.users)] + [OBSERVER], room_names(options))
    redis_server = RedisServer(binary, log=folder / "redis.log").start()
    env = {"DJANGO_SETTINGS_MODULE": "chat_site.dev_settings", "DATABASE_PATH": str(database),
           "REDIS_URL": redis_server.url, "CHANNEL_LAYER": options.layer, "PRESENCE_TTL": f"{PRESENCE_TTL:g}"}
    servers = [Daphne(app="chat_site.asgi:application", cwd=PROJECT, env=env, log=folder / f"daphne-{n + 1}.log")
               for n in range(options.processes)]
    print(f"fault run: {options.sockets} sockets, {options.users} users, {options.rooms} rooms, "
          f"{options.processes} daphne processes, layer {options.layer}, {options.seconds:g} s; files in {folder}",
          flush=True)
    run = Run(options, folder, redis_server, servers)
    try:
        for server in servers:
            server.start()
        leftovers = asyncio.run(drive(run))
        table, verdict = count(run, database, leftovers)
    finally:
        for server in servers:
            server.stop()
        redis_server.stop()
    print()
    print_table(table)
    failed = {name: n for name, n in verdict.items() if n}
    print("\nRESULT:", "PASS" if not failed else "FAIL (" + ", ".join(f"{k} {v}" for k, v in failed.items()) + ")")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
