"""Task 4: tell the client when Redis goes away, and carry on when it is back (chat/consumers.py)."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from coursekit.servers import RedisServer

from .chat_clients import real_frame

pytestmark = pytest.mark.task(4)


async def join(server, room: str, attempts: int = 20):
    """Connect the way a client with a retry loop does: a process's first connection after an outage may fail."""
    for _ in range(attempts):
        socket = None
        try:
            socket = await connect(f"{server.ws_url}/ws/chat/{room}/", origin=server.origin, open_timeout=1)
            await socket.send(json.dumps({"text": "ping"}))
            if json.loads(await asyncio.wait_for(socket.recv(), 1))["type"] == "message":
                return socket
        except (ConnectionClosed, InvalidHandshake, TimeoutError, OSError):
            pass
        if socket is not None:
            await socket.close()
        await asyncio.sleep(0.2)
    pytest.fail(f"No working socket to {server.ws_url} after {attempts} attempts.")


async def test_redis_going_away_is_told_to_the_client_and_delivery_resumes(redis_server_binary, start_daphne):
    with RedisServer(redis_server_binary) as redis:
        server = start_daphne(env={"CHANNEL_LAYER": "redis", "REDIS_URL": redis.url})
        alice = await join(server, "outage")

        redis.stop()
        try:
            frame = json.loads(await asyncio.wait_for(alice.recv(), 5))
        except (TimeoutError, ConnectionClosed) as error:
            pytest.fail("When Redis stops, the client must get an error frame first "
                        f'({{"type": "error", "code": "broker_unavailable", ...}}); got {error!r}.\n'
                        f"The server's log:\n{server.output()[-2500:]}", pytrace=False)
        assert frame.get("code") == "broker_unavailable", f"Expected the broker_unavailable error frame; got {frame!r}."
        try:
            await asyncio.wait_for(alice.wait_closed(), 3)
        except TimeoutError:
            pytest.fail("After the error frame the server must close the socket (code 4503).")
        assert alice.close_code == 4503, f"Expected close code 4503; got {alice.close_code}."
        assert server.process.poll() is None, "The daphne process died with Redis: it must stay up."
        assert "Redis unavailable" in server.output(), "The outage must be logged (a WARNING with 'Redis unavailable')."

        redis.start()
        alice, bob = await join(server, "outage"), await join(server, "outage")
        await alice.send(json.dumps({"text": "back again"}))
        frame = await real_frame(bob, "Alice's message after Redis came back")
        assert frame == {"type": "message", "room": "outage", "text": "back again"}
        await alice.close()
        await bob.close()
