"""Helpers for the tests: chat sockets through a communicator, a layer per test, real clients.

Every wait is a deadline on the awaited event, stretched by COURSE_TIME_SCALE (coursekit.timing):
it ends as soon as the event happens. A wait that ends without it fails with a sentence saying what
was expected and what happened instead, never with a bare TimeoutError or CancelledError.
"""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from coursekit.servers import LOCALHOST, free_port
from coursekit.timing import scaled
from redissite import layers
from redissite.asgi import application

ORIGIN = [(b"origin", b"http://127.0.0.1")]
ARRIVES = 5  # seconds, scaled: the deadline for something that should happen
QUIET = 0.3  # seconds, scaled: how long "nothing else arrives" is watched
HANDSHAKE = 10  # seconds, scaled: opening a socket to a daphne process, like an HTTP request


def layer_settings(name: str, redis_url: str) -> dict:
    """The CHANNEL_LAYERS entry for `name`, configured as the lesson's settings configure it."""
    if name == "memory":
        return layers.memory_layer()
    return layers.redis_layer(
        redis_url,
        pool_size=django_settings.REDIS_POOL_SIZE,
        capacity=django_settings.CHANNEL_CAPACITY,
        expiry=django_settings.CHANNEL_EXPIRY,
        group_expiry=django_settings.GROUP_EXPIRY,
    )


def unreachable_redis_url() -> str:
    """A Redis URL on a free port where nothing listens: Redis is down."""
    return f"redis://{LOCALHOST}:{free_port()}/0"


def described(error: BaseException) -> str:
    """An exception of the consumer, with what it usually means in this lesson."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, TypeError) and "serialize" in str(error):
        text += (". The Redis layers encode every event with msgpack, which knows only str, numbers, bool, None, "
                 "bytes, lists and dicts (the in-memory layer passes any object, so the [memory] test passes)")
    if isinstance(error, ValueError) and "No handler for message type" in str(error):
        text += ('. An event\'s "type" names the consumer method that handles it: "chat.message" calls '
                 "chat_message()")
    return text


def chat_socket(room: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/chat/{room}/", headers=ORIGIN)


async def next_event(communicator: WebsocketCommunicator, what: str, hint: str = "") -> dict:
    """The next ASGI event the consumer sends (websocket.accept, .send or .close)."""
    deadline = scaled(ARRIVES)
    crash = None
    try:
        return await communicator.receive_output(deadline)
    except (TimeoutError, asyncio.CancelledError):
        pass
    except Exception as error:  # receive_output re-raises what the consumer raised
        crash = error
    if crash is not None:
        pytest.fail(f"Expected {what}; instead ChatConsumer raised {described(crash)}", pytrace=False)
    pytest.fail(f"Expected {what} within {deadline:g} s; nothing arrived." + (f" {hint}" if hint else ""),
                pytrace=False)


def frame_of(event: dict, what: str) -> dict:
    """The JSON content of a websocket.send event, or a failure that says what the consumer sent instead."""
    if event["type"] == "websocket.close":
        pytest.fail(f"Expected {what}; the consumer closed the socket (code {event.get('code', 1000)}) instead.",
                    pytrace=False)
    if event["type"] != "websocket.send":
        pytest.fail(f"Expected {what}; the consumer sent {event!r} instead.", pytrace=False)
    text = event.get("text")
    if not isinstance(text, str):
        pytest.fail(f"Expected {what} as JSON text; the consumer sent {event!r}. A frame's \"text\" must be a str: "
                    "encode the dict with json.dumps().", pytrace=False)
    try:
        return json.loads(text)
    except ValueError:
        pass
    pytest.fail(f"Expected {what} as JSON text; the consumer sent {text!r}, which is not JSON.", pytrace=False)


async def next_frame(communicator: WebsocketCommunicator, what: str, hint: str = "") -> dict:
    return frame_of(await next_event(communicator, what, hint), what)


async def open_chat(room: str) -> WebsocketCommunicator:
    """A socket joined to `room`, or a failure that says why the consumer did not accept it."""
    communicator = chat_socket(room)
    await communicator.send_input({"type": "websocket.connect"})
    event = await next_event(communicator, f"the socket to room {room!r} to be accepted")
    if event["type"] != "websocket.accept":
        pytest.fail(f"ChatConsumer did not accept a socket to room {room!r}: its first answer was {event!r}.",
                    pytrace=False)
    return communicator


async def nothing_arrives(communicator: WebsocketCommunicator) -> bool:
    """True when the consumer sends nothing for a short while (a negative check: kept short)."""
    crash = None
    try:
        return await communicator.receive_nothing(timeout=scaled(QUIET))
    except Exception as error:
        crash = error
    pytest.fail(f"ChatConsumer raised {described(crash)}", pytrace=False)


async def leave(*communicators: WebsocketCommunicator) -> None:
    """The clients leave; their consumers get a moment to run disconnect(), then stop, as daphne stops them."""
    crash = None
    for communicator in communicators:
        try:
            await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        except Exception as error:  # the consumer had already crashed: send_input re-raises its exception
            crash = crash or error
        except asyncio.CancelledError:
            pass
    futures = [communicator.future for communicator in communicators]
    await asyncio.wait(futures, timeout=scaled(QUIET))
    for future in futures:
        if not future.done():
            # Not a check of this lesson's tasks (a consumer still in a layer call, say to a Redis that has just
            # stopped): stop it as daphne does once its grace period is over.
            future.cancel()
            await asyncio.wait([future], timeout=scaled(ARRIVES))
        elif not future.cancelled() and future.exception() is not None:
            crash = crash or future.exception()
    if crash is not None:
        pytest.fail(f"ChatConsumer raised {described(crash)}", pytrace=False)


async def daphne_processes(start_daphne, *envs: dict) -> list:
    """One daphne process per environment, started side by side in threads: meanwhile the test's own event
    loop keeps running, as it must (a blocked loop is what the checker reports as the learner's mistake)."""
    return await asyncio.gather(*(asyncio.to_thread(start_daphne, env=env) for env in envs))


async def open_real_chat(server, room: str):
    """An ordinary WebSocket client on `room` of a daphne process, or a failure that says why not."""
    url = f"{server.ws_url}/ws/chat/{room}/"
    problem = None
    try:
        return await connect(url, origin=server.origin, open_timeout=scaled(HANDSHAKE))
    except TimeoutError:
        problem = f"the handshake did not complete within {scaled(HANDSHAKE):g} s"
    except (InvalidHandshake, OSError) as error:
        problem = f"{type(error).__name__}: {error}"
    pytest.fail(f"Could not open {url}: {problem}.\nThe server's log:\n{server.output()[-2500:]}", pytrace=False)


async def real_frame(socket, what: str, hint: str = "", server=None) -> dict:
    """The next JSON frame an ordinary WebSocket client receives, or a failure that says what was awaited
    (with the tail of `server`'s log, when given)."""
    deadline = scaled(ARRIVES)
    problem = None
    try:
        return json.loads(await asyncio.wait_for(socket.recv(), deadline))
    except TimeoutError:
        problem = f"nothing arrived within {deadline:g} s"
    except ConnectionClosed:
        problem = f"the server closed the socket (code {socket.close_code}) instead"
    log = f"\nThe server's log:\n{server.output()[-2500:]}" if server is not None else ""
    pytest.fail(f"Expected {what}; {problem}." + (f" {hint}" if hint else "") + log, pytrace=False)
