"""Real daphne processes, an outside client, and what a client may do to them: stay idle for long, ask for
paths that do not exist, send frames too big or not UTF-8, leave in a crowd. The servers log no ERROR
(the autouse fixture servers_log_no_errors checks every test)."""

import asyncio
import json
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from coursekit.timing import scaled

from .live import HTTP_WAIT, Client, log_in, prepare_database

# RedisChannelLayer blocks this long in BZPOPMIN for the next event; redis-py 8's default socket_timeout is
# the same 5 s. An idle socket must outlive that read: the real one, never shortened.
LAYER_BLOCKING_READ = 5.0
IDLE = LAYER_BLOCKING_READ + 1.5


@pytest.fixture(scope="module")
def layer_servers(start_daphne, redis_url, tmp_path_factory):
    """One daphne process on each Redis layer (databases 2 and 3 of the test Redis), each with its own SQLite."""
    base = redis_url.rsplit("/", 1)[0]
    started = {}
    for number, name in [(2, "redis"), (3, "pubsub")]:
        env = prepare_database(tmp_path_factory.mktemp(f"{name}-db"))
        started[name] = start_daphne(env={**env, "REDIS_URL": f"{base}/{number}", "CHANNEL_LAYER": name})
    return started


async def test_an_idle_socket_outlives_the_layers_blocking_read_on_both_redis_layers(layer_servers):
    async def idle_then_talk(name, server):
        async with Client(server, await log_in(server.http_url, "ada")) as client:
            await asyncio.sleep(IDLE)  # a real duration under test, not a wait for an event
            closed = client.socket.close_code
            if closed is not None:
                pytest.fail(f"On the {name} layer, a socket idle for {IDLE:g} s was closed (code {closed}). redis-py 8 "
                            "gives connections socket_timeout=5 by default, and RedisChannelLayer blocks 5 s in "
                            "BZPOPMIN: put a longer socket_timeout in the layer's host dict (chat_site/layers.py).",
                            pytrace=False)
            await client.send({"type": "message", "text": f"still here on {name}", "client_id": uuid.uuid4().hex})
            assert (await client.next("message"))["text"] == f"still here on {name}"
    await asyncio.gather(*(idle_then_talk(name, server) for name, server in layer_servers.items()))


async def close_code_of(server, path: str, cookie: str | None = None) -> int | str:
    """The close code a socket on `path` gets, or what happened instead."""
    headers = {"Cookie": cookie} if cookie else {}
    try:
        async with connect(server.ws_url + path, origin=server.origin, additional_headers=headers,
                           open_timeout=HTTP_WAIT) as socket:
            frame = await asyncio.wait_for(socket.recv(), scaled(5))
            return f"a frame: {frame[:80]}"
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else "no close frame"
    except Exception as error:  # a refused handshake: InvalidStatus (HTTP 500 ...)
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("path", ["/ws/nowhere/", "/ws/rooms/..%2F..%2Fetc/", "/ws/rooms/general/extra/"])
async def test_an_unknown_path_is_closed_with_4404_not_a_server_error(layer_servers, path):
    server = layer_servers["redis"]
    got = await close_code_of(server, path, await log_in(server.http_url, "ada"))
    assert got == 4404, f"A socket on {path} got {got}; expected accept, then close code 4404 (not found)"


async def test_a_frame_over_16_kib_gets_too_big_and_the_socket_stays_open(layer_servers):
    server = layer_servers["redis"]
    async with Client(server, await log_in(server.http_url, "ada")) as client:
        await client.socket.send(json.dumps({"type": "message", "text": "x" * 100_000, "client_id": "big"}))
        assert (await client.next("error"))["code"] == "too_big"
        await client.send({"type": "typing"})
        await client.send({"type": "sync", "after": 0})
        await client.next("synced")


async def test_frames_over_1_mib_or_not_utf8_end_the_connection_and_the_server_carries_on(layer_servers):
    server = layer_servers["redis"]
    cookie = await log_in(server.http_url, "ada")
    for what, payload in [("a 1 MiB + 1 byte frame", "x" * (1024 * 1024 + 1)), ("invalid UTF-8", b"\xff\xfe bad")]:
        async with Client(server, cookie) as client:
            if isinstance(payload, bytes):
                await client.socket.send(payload, text=True)  # a text frame whose bytes are not UTF-8
            else:
                await client.socket.send(payload)
            ended = await client.receive_before(asyncio.get_running_loop().time() + scaled(5))
            assert isinstance(ended, str) and "closed" in ended, f"After {what}, the connection stayed open: {ended}"
    async with Client(server, cookie) as client:  # the server carries on
        assert client.welcome["user"] == "ada"


async def test_a_crowd_leaving_during_presence_broadcasts_logs_no_error(layer_servers):
    server = layer_servers["redis"]
    ada, bob = await log_in(server.http_url, "ada"), await log_in(server.http_url, "bob")
    async with Client(server, ada) as watcher:
        crowd = [await Client(server, bob).__aenter__() for _ in range(20)]
        await watcher.presence_becomes(["ada", "bob"])
        for client in crowd:  # gone at once, no close handshake: broadcasts still go to their consumers
            client.socket.transport.abort()
        await watcher.presence_becomes(["ada"], timeout=scaled(10))


@pytest.fixture
def pubsub_server_with_own_redis(start_daphne, redis_server_binary, tmp_path_factory):
    """A daphne process on the pub/sub layer, over a Redis of its own that the test may stop."""
    from coursekit import servers

    with servers.RedisServer(redis_server_binary) as redis_server:
        env = prepare_database(tmp_path_factory.mktemp("outage-db"))
        yield start_daphne(env={**env, "REDIS_URL": redis_server.url, "CHANNEL_LAYER": "pubsub"}), redis_server


async def test_a_redis_restart_under_the_pubsub_layer_is_logged_as_warnings_and_the_chat_carries_on(
        pubsub_server_with_own_redis):
    server, redis_server = pubsub_server_with_own_redis
    cookie = await log_in(server.http_url, "ada")
    async with Client(server, cookie) as client:
        offset = server.log_size()
        await asyncio.to_thread(redis_server.stop)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + scaled(10)
        # The layer's reader notices within about a second, and says so in the log.
        while "Unexpected exception in receive task" not in server.log_since(offset) and loop.time() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.to_thread(redis_server.start)
        assert "WARNING" in server.log_since(offset), "the outage was not reported in the server's log"
        await client.send({"type": "typing"})  # the socket is still open
    async with Client(server, cookie) as again:  # Redis is back: a new socket chats
        await again.send({"type": "message", "text": "after the restart", "client_id": uuid.uuid4().hex})
        assert (await again.next("message", timeout=scaled(10)))["text"] == "after the restart"
