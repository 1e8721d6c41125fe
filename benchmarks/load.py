"""The load generator: WebSocket clients on 127.0.0.1 that send, receive and count every delivery.

One asyncio process (uvloop when installed), the `websockets` client, no compression offered. Every
loop is bounded in count and in time, and every wait has a deadline: a server that stalls makes a
scenario end with its losses counted, never hang.

Two dialects:
  chat      the final chat's protocol (docs/final/protocol.md): {"type": "message", "text", "client_id"}
            in; a message frame carrying the client_id out (to the sender it is the acknowledgement:
            stored before broadcast). The socket counts as joined once its `welcome` frame came.
  tutorial  Channels' tutorial consumer: {"message": text} in and out. `raw` is the same frames from the
            bare websockets server, which also sends a welcome once the socket is in its room.

Each message carries a tag (a scenario prefix and its number) in its text or client_id, so every frame
that comes back names its message. Each client must receive each message of its room exactly once:
a message a client never got is lost, a second copy (or a copy from another room) is duplicated.

Scenarios:
  saturation  closed loop: every client sends, waits for its own copy to come back, sends the next.
  fixed load  open loop: messages leave on an even schedule (1/rate apart, the senders in turn, rooms
              interleaved); latency runs from the scheduled moment, so a late generator does not hide a
              slow server (no coordinated omission).
  storm       N sockets open at once; how long until every one is welcomed, and how many failed.
Figures are taken inside the measured window (after a warm-up): deliveries and acknowledgements that
arrived in it, their send-to-delivery latencies, and the CPU the server processes used meanwhile.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from array import array
from dataclasses import dataclass, field
from typing import Callable

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

MAX_FRAMES_PER_SOCKET = 50_000_000  # a reader's bound in count (its bound in time: the scenario's close)


class LoadError(RuntimeError):
    """The clients could not be set up (sockets refused, no welcome): the scenario cannot be measured."""


# --- the dialects ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    name: str
    welcome: bool  # a {"type": "welcome"} frame tells the client it is in its room

    def encode(self, tag: str) -> str:
        if self.name == "chat":
            return json.dumps({"type": "message", "text": f"bench {tag}", "client_id": tag})
        return json.dumps({"message": tag})

    def decode(self, raw) -> tuple[str | None, str | None]:
        """(the tag of a message frame, or None; an error code, or None)."""
        try:
            frame = json.loads(raw)
        except (TypeError, ValueError):
            return None, "client: not JSON"
        if not isinstance(frame, dict):
            return None, None
        if self.name == "chat":
            kind = frame.get("type")
            if kind == "message":
                return frame.get("client_id"), None
            if kind == "error":
                return None, str(frame.get("code"))
            return None, None  # welcome, presence, typing, synced: not deliveries
        tag = frame.get("message")
        return (tag, None) if isinstance(tag, str) else (None, None)


CHAT = Dialect("chat", welcome=True)
TUTORIAL = Dialect("tutorial", welcome=False)
RAW = Dialect("raw", welcome=True)


@dataclass(frozen=True)
class Seat:
    """Where one client connects: its URL (the room is in the path), its headers, its room's name."""

    url: str
    room: str
    origin: str
    cookie: str | None = None


@dataclass
class Limits:
    open_timeout: float = 30.0   # a handshake and its welcome
    ack_timeout: float = 10.0    # saturation: a sender waits this long for its own copy, then sends on
    drain: float = 15.0          # after the window: how long the expected deliveries may still take
    close_timeout: float = 5.0
    max_messages: int = 2_000_000  # per scenario


# --- one socket ------------------------------------------------------------------------------------

class Client:
    def __init__(self, index: int, seat: Seat, socket, welcome: dict | None):
        self.index, self.seat, self.socket, self.welcome = index, seat, socket, welcome
        self.room = seat.room
        self.room_id = -1            # set by the crowd: rooms are numbered
        self.closed: str | None = None  # why the socket closed, if it did


async def open_socket(seat: Seat, dialect: Dialect, limits: Limits) -> tuple[object, dict | None]:
    """A connected socket (and its welcome frame); raises LoadError saying what went wrong."""
    headers = {"Cookie": seat.cookie} if seat.cookie else {}
    try:
        socket = await connect(seat.url, origin=seat.origin, additional_headers=headers, compression=None,
                               max_queue=None, ping_interval=None, open_timeout=limits.open_timeout,
                               close_timeout=limits.close_timeout)
    except InvalidStatus as error:
        raise LoadError(f"handshake refused: HTTP {error.response.status_code}") from None
    except (OSError, TimeoutError, InvalidHandshake) as error:
        raise LoadError(f"handshake failed: {type(error).__name__} {error}".strip()) from None
    if not dialect.welcome:
        return socket, None
    try:
        async with asyncio.timeout(limits.open_timeout):
            for _ in range(100):  # a welcome comes first; error frames may precede a refusal
                frame = json.loads(await socket.recv())
                if isinstance(frame, dict) and frame.get("type") == "welcome":
                    return socket, frame
        raise LoadError("no welcome among the first 100 frames")
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else "1006"
        raise LoadError(f"closed with {code} before the welcome") from None
    except TimeoutError:
        socket.transport.abort()
        raise LoadError(f"no welcome within {limits.open_timeout:g} s") from None


# --- what one scenario saw -------------------------------------------------------------------------

class Tally:
    """Every message sent in one scenario, and every copy of it that came back, by client."""

    def __init__(self, prefix: str, dialect: Dialect, room_sizes: list[int], clients: int):
        self.prefix, self.dialect = prefix, dialect
        self.room_sizes = room_sizes
        self.message_room = array("i")     # by message number: the room it was sent to
        self.message_sender = array("i")   # ... the client that sent it
        self.sent_at = array("d")          # ... when it was sent (or, in an open loop, due)
        self.counts = [bytearray() for _ in range(clients)]  # by client, by message: copies received (<= 255)
        self.arrivals = array("d")         # first copies in the right room: when they arrived
        self.latencies = array("d")        # ... and how long after sent_at
        self.acks = array("d")             # the sender's own copies: when they arrived
        self.expected = 0                  # copies that should arrive: each message, once per member of its room
        self.first_copies = 0
        self.matched = 0                   # every frame naming one of this scenario's messages
        self.misrouted = 0                 # copies that reached a client in another room
        self.waiters: dict[int, asyncio.Future] = {}
        self.errors: collections.Counter[str] = collections.Counter()
        self.ack_timeouts = 0
        self.send_failures = 0
        self.stopped = False
        self.done = asyncio.Event()

    def register(self, client: Client, at: float) -> tuple[int, str]:
        number = len(self.sent_at)
        self.message_room.append(client.room_id)
        self.message_sender.append(client.index)
        self.sent_at.append(at)
        self.expected += self.room_sizes[client.room_id]
        return number, self.dialect.encode(f"{self.prefix}{number}")

    def stop(self) -> None:
        self.stopped = True
        if self.first_copies >= self.expected:
            self.done.set()

    def on_frame(self, client: Client, raw, now: float) -> None:
        tag, error = self.dialect.decode(raw)
        if error:
            self.errors[error] += 1
        if tag is None or not tag.startswith(self.prefix):
            return
        try:
            number = int(tag[len(self.prefix):])
        except ValueError:
            return
        if not 0 <= number < len(self.sent_at):
            return
        self.matched += 1
        if self.message_room[number] != client.room_id:
            self.misrouted += 1
            return
        counts = self.counts[client.index]
        if number >= len(counts):
            counts.extend(bytes(number + 1024 - len(counts)))
        seen = counts[number]
        if seen < 255:
            counts[number] = seen + 1
        if seen:
            return  # a duplicate: counted at the end (matched - first copies - misrouted)
        self.first_copies += 1
        self.arrivals.append(now)
        self.latencies.append(now - self.sent_at[number])
        if self.message_sender[number] == client.index:
            self.acks.append(now)
            waiter = self.waiters.pop(number, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if self.stopped and self.first_copies >= self.expected:
            self.done.set()

    def figures(self, window: tuple[float, float]) -> dict:
        start, end = window
        seconds = end - start
        inside = sorted(latency for arrival, latency in zip(self.arrivals, self.latencies) if start <= arrival < end)
        acks = sum(1 for arrival in self.acks if start <= arrival < end)
        return {
            "deliveries_per_s": len(inside) / seconds,
            "messages_per_s": acks / seconds,
            "p50_ms": percentile(inside, 0.50), "p99_ms": percentile(inside, 0.99),
            "max_ms": 1000 * inside[-1] if inside else None,
            "sent": len(self.sent_at), "acknowledged": len(self.acks), "expected": self.expected,
            "delivered": self.first_copies,
            "lost": self.expected - self.first_copies,
            "duplicated": self.matched - self.first_copies - self.misrouted,
            "misrouted": self.misrouted,
            "ack_timeouts": self.ack_timeouts, "send_failures": self.send_failures,
            "error_frames": dict(self.errors),
        }


def percentile(ordered: list[float], fraction: float) -> float | None:
    """In milliseconds, the nearest-rank percentile of seconds already sorted."""
    if not ordered:
        return None
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --- a crowd of connected clients ------------------------------------------------------------------

class Crowd:
    """Clients connected to their rooms, each with one reader handing its frames to the scenario under way."""

    def __init__(self, dialect: Dialect, clients: list[Client], limits: Limits):
        self.dialect, self.clients, self.limits = dialect, clients, limits
        rooms = sorted({client.room for client in clients})
        self.room_ids = {room: n for n, room in enumerate(rooms)}
        for client in clients:
            client.room_id = self.room_ids[client.room]
        self.room_sizes = [0] * len(rooms)
        for client in clients:
            self.room_sizes[client.room_id] += 1
        self.tally: Tally | None = None
        self.readers = [asyncio.create_task(self.read(client)) for client in clients]

    @classmethod
    async def join(cls, seats: list[Seat], dialect: Dialect, limits: Limits) -> "Crowd":
        opened = await asyncio.gather(*(open_socket(seat, dialect, limits) for seat in seats), return_exceptions=True)
        problems = collections.Counter(str(result) for result in opened if isinstance(result, BaseException))
        if problems:
            for result in opened:
                if not isinstance(result, BaseException):
                    result[0].transport.abort()
            raise LoadError(f"{sum(problems.values())} of {len(seats)} clients could not join: "
                            + "; ".join(f"{text} (x{n})" for text, n in problems.most_common(3)))
        return cls(dialect, [Client(n, seat, socket, welcome)
                             for n, (seat, (socket, welcome)) in enumerate(zip(seats, opened))], limits)

    async def read(self, client: Client) -> None:
        socket = client.socket
        try:
            for _ in range(MAX_FRAMES_PER_SOCKET):
                raw = await socket.recv()
                if self.tally is not None:
                    self.tally.on_frame(client, raw, time.perf_counter())
        except ConnectionClosed as closed:
            client.closed = str(closed.rcvd.code) if closed.rcvd else "1006 (no close frame)"

    def closed_sockets(self) -> collections.Counter[str]:
        return collections.Counter(client.closed for client in self.clients if client.closed)

    async def close(self) -> None:
        async def close_one(client: Client) -> None:
            try:
                async with asyncio.timeout(self.limits.close_timeout + 1):
                    await client.socket.close()
            except TimeoutError:
                client.socket.transport.abort()

        await asyncio.gather(*(close_one(client) for client in self.clients))
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


# --- the scenarios ---------------------------------------------------------------------------------

Probe = Callable[[], float]  # CPU seconds used so far by the server processes


@dataclass
class Window:
    warmup: float
    seconds: float
    start: float = field(default_factory=time.perf_counter)

    @property
    def measured(self) -> tuple[float, float]:
        return self.start + self.warmup, self.start + self.warmup + self.seconds

    @property
    def end(self) -> float:
        return self.measured[1]


async def cpu_over(window: Window, server_cpu: Probe) -> dict:
    """The server processes' and this process's CPU seconds inside the measured window."""
    begin, end = window.measured
    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    server0, client0, at0 = server_cpu(), time.process_time(), time.perf_counter()
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    return {"server_cpu_s": server_cpu() - server0,
            "client_cpu": (time.process_time() - client0) / max(1e-9, time.perf_counter() - at0)}


async def finish(crowd: Crowd, tally: Tally, window: Window, cpu: dict) -> dict:
    """Stop sending; wait (deadline: Limits.drain) for every expected copy; the scenario's figures."""
    tally.stop()
    drain_start = time.perf_counter()
    try:
        async with asyncio.timeout(crowd.limits.drain):
            await tally.done.wait()
        drained = True
    except TimeoutError:
        drained = False
    crowd.tally = None
    for waiter in tally.waiters.values():
        waiter.cancel()
    figures = tally.figures(window.measured)
    delivered_in_window = figures["deliveries_per_s"] * window.seconds
    figures.update({
        "drained": drained, "drain_s": round(time.perf_counter() - drain_start, 3),
        "cpu_us_per_delivery": 1e6 * cpu["server_cpu_s"] / delivered_in_window if delivered_in_window else None,
        "server_cpu_cores": cpu["server_cpu_s"] / window.seconds,
        "client_cpu": cpu["client_cpu"],
        "sockets_closed": dict(crowd.closed_sockets()),
        "warmup_s": window.warmup, "window_s": window.seconds,
    })
    return figures


async def saturation(crowd: Crowd, prefix: str, warmup: float, seconds: float, server_cpu: Probe) -> dict:
    """Closed loop: each client keeps one message in flight (sends the next once its own copy is back)."""
    tally = Tally(prefix, crowd.dialect, crowd.room_sizes, len(crowd.clients))
    crowd.tally = tally
    window = Window(warmup, seconds)
    loop = asyncio.get_running_loop()
    timeout = crowd.limits.ack_timeout

    async def sender(client: Client) -> None:
        for _ in range(crowd.limits.max_messages):
            now = time.perf_counter()
            if now >= window.end:
                return
            number, frame = tally.register(client, now)
            waiter = tally.waiters[number] = loop.create_future()
            try:
                await client.socket.send(frame)
            except ConnectionClosed:
                tally.send_failures += 1
                return
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                tally.waiters.pop(number, None)
                tally.ack_timeouts += 1

    cpu_task = asyncio.create_task(cpu_over(window, server_cpu))
    await asyncio.gather(*(sender(client) for client in crowd.clients))
    cpu = await cpu_task
    return {"mode": "saturation", **await finish(crowd, tally, window, cpu)}


def interleaved(crowd: Crowd) -> list[Client]:
    """The senders' order in an open loop: one client of each room in turn, every client once a round."""
    by_room = collections.defaultdict(list)
    for client in crowd.clients:
        by_room[client.room_id].append(client)
    rooms = [members for _, members in sorted(by_room.items())]
    rounds = max(len(members) for members in rooms)
    return [members[n] for n in range(rounds) for members in rooms if n < len(members)]


async def fixed_load(crowd: Crowd, prefix: str, rate: float, warmup: float, seconds: float,
                     server_cpu: Probe) -> dict:
    """Open loop: `rate` messages per second in all, evenly spaced, the senders in turn."""
    tally = Tally(prefix, crowd.dialect, crowd.room_sizes, len(crowd.clients))
    crowd.tally = tally
    window = Window(warmup, seconds)
    order = interleaved(crowd)
    interval = 1.0 / rate
    late = 0.0
    cpu_task = asyncio.create_task(cpu_over(window, server_cpu))
    for n in range(min(crowd.limits.max_messages, int(rate * (warmup + seconds)) + 1)):
        due = window.start + n * interval
        if due >= window.end:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        client = order[n % len(order)]
        _, frame = tally.register(client, due)
        try:
            await client.socket.send(frame)
        except ConnectionClosed:
            tally.send_failures += 1
    cpu = await cpu_task
    offered = rate * sum(crowd.room_sizes[c.room_id] for c in order) / len(order)
    return {"mode": "fixed", "rate_in": rate, "offered_deliveries_per_s": offered,
            "generator_late_ms": round(1000 * late, 2), **await finish(crowd, tally, window, cpu)}


async def storm(seats: list[Seat], dialect: Dialect, limits: Limits) -> tuple[list, dict]:
    """Open every socket at once; (the open sockets, the figures): seconds until all were welcomed, failures."""
    start = time.perf_counter()

    async def timed(seat: Seat):
        socket, _ = await open_socket(seat, dialect, limits)
        return socket, time.perf_counter() - start

    results = await asyncio.gather(*(timed(seat) for seat in seats), return_exceptions=True)
    opened = [result for result in results if not isinstance(result, BaseException)]
    failures = collections.Counter(str(result) for result in results if isinstance(result, BaseException))
    times = sorted(seconds for _, seconds in opened)
    return [socket for socket, _ in opened], {
        "mode": "storm", "sockets": len(seats), "welcomed": len(opened), "failures": sum(failures.values()),
        "failure_kinds": dict(failures.most_common(5)),
        "all_welcomed_s": times[-1] if times and not failures else None,
        "last_welcomed_s": times[-1] if times else None,
        "welcome_p50_ms": percentile(times, 0.5), "welcome_p99_ms": percentile(times, 0.99),
    }


async def close_all(sockets: list, limits: Limits) -> None:
    async def close_one(socket) -> None:
        try:
            async with asyncio.timeout(limits.close_timeout + 1):
                await socket.close()
        except TimeoutError:
            socket.transport.abort()

    await asyncio.gather(*(close_one(socket) for socket in sockets))


def run(coroutine):
    """asyncio.run on uvloop when it is installed (the clients' own overhead is part of every figure)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
