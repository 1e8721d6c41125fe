"""Chat sockets for the tests: a communicator that fails in the learner's words, not with a timeout chain."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application

# AllowedHostsOriginValidator refuses a socket without an allowed Origin, as a browser would send.
ORIGIN = (b"origin", b"http://127.0.0.1")


def fail_if_crashed(communicator: WebsocketCommunicator, doing: str) -> None:
    future = communicator.future
    if future.done() and not future.cancelled() and future.exception() is not None:
        crash = future.exception()
        pytest.fail(f"ChatConsumer raised {type(crash).__name__} while {doing}: {crash}", pytrace=False)


async def open_socket(path: str) -> WebsocketCommunicator:
    """A communicator whose socket the consumer accepted, or a test failure saying what happened."""
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    try:
        connected, _ = await communicator.connect(timeout=1)
    except BaseException:  # the consumer crashed or never answered
        connected = False
    if not connected:
        fail_if_crashed(communicator, f"connecting to {path}")
        pytest.fail(f"The socket to {path} was not accepted within 1 s.", pytrace=False)
    return communicator


async def receive_frame(communicator: WebsocketCommunicator, expected: str, timeout: float = 1) -> dict:
    """The next JSON frame the client gets; `expected` says what the test waits for, for the message."""
    try:
        event = await communicator.receive_output(timeout=timeout)
    except BaseException:
        fail_if_crashed(communicator, f"the test waited for {expected}")
        pytest.fail(f"Expected {expected} within {timeout} s, but the client received nothing.", pytrace=False)
    if event["type"] == "websocket.close":
        pytest.fail(f"Expected {expected}, but the socket was closed (code {event.get('code')}).", pytrace=False)
    return json.loads(event["text"])


async def assert_receives_nothing(communicator: WebsocketCommunicator, who: str) -> None:
    await asyncio.sleep(0.05)  # time enough for a wrongly routed message to arrive
    if not await communicator.receive_nothing(timeout=0.05):
        frame = await communicator.receive_output()
        pytest.fail(f"{who} should have received nothing, but got {frame}.", pytrace=False)


async def join_room(room_name: str) -> tuple[WebsocketCommunicator, str]:
    """A member in the room, past its welcome frame: (communicator, the member's name)."""
    communicator = await open_socket(f"/ws/chat/{room_name}/")
    welcome = await receive_frame(communicator, f"the welcome frame of room {room_name!r}")
    assert welcome.get("type") == "welcome", f"The first frame in a room must be the welcome; got {welcome}."
    return communicator, welcome["name"]


async def say(communicator: WebsocketCommunicator, message) -> None:
    await communicator.send_to(text_data=json.dumps({"message": message}))
