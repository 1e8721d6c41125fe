"""Task 4: tell the client when Redis goes away, and carry on when it is back (chat/consumers.py)."""

import asyncio
import json
import logging

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from chat.consumers import BROKER_UNAVAILABLE, BROKER_UNAVAILABLE_CLOSE_CODE
from coursekit.servers import RedisServer
from coursekit.timing import scaled

from .chat_clients import (ARRIVES, chat_socket, daphne_processes, frame_of, layer_settings, leave, next_event,
                           open_chat, real_frame, unreachable_redis_url)

pytestmark = pytest.mark.task(4)

NOT_ACCEPTED_YET = (
    "Redis was down when this socket connected, so group_add failed in connect and the socket was not accepted "
    "yet (self.accepted is False). {what} daphne {outcome}, and the client never reads why. In broker_unavailable, "
    'when self.accepted is false, send {{"type": "websocket.accept"}} first.')
ALREADY_ACCEPTED = (
    "broker_unavailable accepted a socket that was already accepted (self.accepted is True): daphne fails on a "
    "second websocket.accept and closes the socket with 1011, without your error frame. Accept only when "
    "self.accepted is false.")


@pytest.fixture
def redis_down(settings):
    """The consumers' layer points at a Redis that is not running."""
    settings.CHANNEL_LAYERS = {"default": layer_settings("redis", unreachable_redis_url())}


@pytest.fixture
def chat_log(caplog):
    """The records of the "chat" loggers (they do not propagate to the root logger: see settings.LOGGING)."""
    logger = logging.getLogger("chat")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


async def expect_told_and_closed(communicator, when: str) -> None:
    """The error frame, then the close with 4503, and nothing else."""
    event = await next_event(communicator, f"the broker_unavailable error frame {when}")
    if event["type"] == "websocket.accept":
        pytest.fail(ALREADY_ACCEPTED, pytrace=False)
    if event["type"] == "websocket.close":
        pytest.fail(f"{when.capitalize()}, the socket closed (code {event.get('code', 1000)}) without the error "
                    "frame: send BROKER_UNAVAILABLE first, then close.", pytrace=False)
    frame = frame_of(event, f"the broker_unavailable error frame {when}")
    if frame != BROKER_UNAVAILABLE:
        pytest.fail(f"Expected the frame BROKER_UNAVAILABLE, {BROKER_UNAVAILABLE!r}; got {frame!r}.", pytrace=False)
    closing = await next_event(communicator, f"the socket to close with {BROKER_UNAVAILABLE_CLOSE_CODE} after the "
                                             "error frame")
    if closing["type"] != "websocket.close":
        pytest.fail(f"After the error frame the socket must close with {BROKER_UNAVAILABLE_CLOSE_CODE}; the consumer "
                    f"sent {closing!r}.", pytrace=False)
    code = closing.get("code")
    if code != BROKER_UNAVAILABLE_CLOSE_CODE:
        pytest.fail(f"The socket closed with {code if code is not None else 'no code (1000)'}; close with "
                    f"BROKER_UNAVAILABLE_CLOSE_CODE ({BROKER_UNAVAILABLE_CLOSE_CODE}), the code that tells the client "
                    "to reconnect later.", pytrace=False)


async def test_a_socket_opened_while_redis_is_down_is_accepted_told_and_closed(redis_down):
    communicator = chat_socket("lobby")
    await communicator.send_input({"type": "websocket.connect"})
    first = await next_event(communicator, "the consumer to accept a socket opened while Redis is down")
    if first["type"] == "websocket.send":
        pytest.fail(NOT_ACCEPTED_YET.format(what="broker_unavailable sent the error frame first:", outcome=(
            'refuses to send on it ("Socket has not been accepted, so cannot send over it") and answers the '
            "handshake with HTTP 500")), pytrace=False)
    if first["type"] == "websocket.close":
        pytest.fail(NOT_ACCEPTED_YET.format(what=f"broker_unavailable closed it (code {first.get('code')}) first:",
                                            outcome=f"then refuses the handshake with HTTP 403, with no error frame "
                                                    f"and no {BROKER_UNAVAILABLE_CLOSE_CODE}"), pytrace=False)
    assert first["type"] == "websocket.accept", f"Expected websocket.accept first; got {first!r}."
    await expect_told_and_closed(communicator, "after the accept")


async def test_an_outage_is_logged_as_a_warning(redis_down, chat_log):
    communicator = chat_socket("lobby")
    await communicator.send_input({"type": "websocket.connect"})
    # group_add fails at once: broker_unavailable runs, then the consumer ends.
    await asyncio.wait([communicator.future], timeout=scaled(ARRIVES))
    await leave(communicator)
    logged = [record for record in chat_log.records if "Redis unavailable" in record.getMessage()]
    if not logged:
        pytest.fail("The outage must be logged: logger.warning(...) with the words 'Redis unavailable', so that "
                    "whoever runs the server sees why sockets close. Logged: "
                    f"{[record.getMessage() for record in chat_log.records]!r}", pytrace=False)
    if logged[0].levelno < logging.WARNING:
        pytest.fail(f"'Redis unavailable' was logged at {logged[0].levelname}; log it as a WARNING (logger.warning).",
                    pytrace=False)


async def test_an_accepted_socket_is_told_and_closed_when_redis_stops(redis_server_binary, settings):
    with RedisServer(redis_server_binary) as redis:
        settings.CHANNEL_LAYERS = {"default": layer_settings("redis", redis.url)}
        alice = await open_chat("outage")
        redis.stop()
        await expect_told_and_closed(alice, "once Redis stopped")
        await leave(alice)


PING = "ping from a joining client"


async def attempt(url: str, origin: str):
    """One connection attempt: the socket once it relays a ping, else None."""
    socket, working = None, False
    try:
        socket = await connect(url, origin=origin, open_timeout=None)
        await socket.send(json.dumps({"text": PING}))
        working = json.loads(await socket.recv()).get("type") == "message"
        return socket if working else None
    except (ConnectionClosed, InvalidHandshake, OSError, ValueError):
        return None
    finally:
        if socket is not None and not working:
            await socket.close()


async def join(server, room: str):
    """Connect the way a client with a retry loop does. A process's first connection after an outage may fail,
    or hang until redis-py's socket timeout, so a new attempt starts every second while earlier ones are pending."""
    url = f"{server.ws_url}/ws/chat/{room}/"
    pending, joined = set(), None
    try:
        async with asyncio.timeout(scaled(3 * ARRIVES)):
            while joined is None:
                pending.add(asyncio.create_task(attempt(url, server.origin)))
                done, pending = await asyncio.wait(pending, timeout=scaled(1), return_when=asyncio.FIRST_COMPLETED)
                sockets = [task.result() for task in done if task.result() is not None]
                joined = sockets[0] if sockets else None
                for extra in sockets[1:]:
                    await extra.close()
    except TimeoutError:
        pass
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if joined is None:
        pytest.fail(f"No working socket to {url} within {scaled(3 * ARRIVES):g} s.\n"
                    f"The server's log:\n{server.output()[-2500:]}", pytrace=False)
    return joined


async def next_message(socket, what: str) -> dict:
    """The next chat frame that is not a joining client's ping."""
    while (frame := await real_frame(socket, what)).get("text") == PING:
        pass
    return frame


async def test_redis_going_away_is_told_to_the_client_and_delivery_resumes(redis_server_binary, start_daphne):
    with RedisServer(redis_server_binary) as redis:
        [server] = await daphne_processes(start_daphne, {"CHANNEL_LAYER": "redis", "REDIS_URL": redis.url})
        alice = await join(server, "outage")

        redis.stop()
        frame = await real_frame(alice, 'the error frame {"type": "error", "code": "broker_unavailable", ...} once '
                                        "Redis stopped", server=server)
        assert frame.get("code") == "broker_unavailable", f"Expected the broker_unavailable error frame; got {frame!r}."
        try:
            await asyncio.wait_for(alice.wait_closed(), scaled(ARRIVES))
        except TimeoutError:
            pass
        assert alice.close_code == BROKER_UNAVAILABLE_CLOSE_CODE, (
            f"After the error frame the server must close the socket with {BROKER_UNAVAILABLE_CLOSE_CODE}; "
            f"close code: {alice.close_code}.")
        assert server.process.poll() is None, "The daphne process died with Redis: it must stay up."
        assert "Redis unavailable" in server.output(), "The outage must be logged (a WARNING with 'Redis unavailable')."

        redis.start()
        alice, bob = await join(server, "outage"), await join(server, "outage")
        await alice.send(json.dumps({"text": "back again"}))
        frame = await next_message(bob, "Alice's message after Redis came back")
        assert frame == {"type": "message", "room": "outage", "text": "back again"}
        await alice.close()
        await bob.close()
