"""Chat sockets for the tests: communicators that fail in the learner's words.

Every wait is a deadline on the event awaited (tests/deadlines.py). No test waits for "nothing":
to prove that a member got nothing, the member says a marker and the marker must be the first frame
back (the layer keeps each channel's events in order, so anything wrongly sent to it earlier would
come first).

Every `pytest.fail` here runs outside an `except` block, so the learner reads one sentence, not a
chain of exceptions.
"""

import asyncio
import json
import uuid

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application

from .crashes import crash_report
from .deadlines import ARRIVE

# AllowedHostsOriginValidator refuses a socket without an allowed Origin, as a browser would send.
ORIGIN = (b"origin", b"http://127.0.0.1")


def layer_problem() -> str | None:
    """Why nothing can arrive, when the layer calls made so far say so (see layer_calls.py)."""
    calls = getattr(get_channel_layer(), "recorded_calls", None)
    return calls.problem() if calls else None


async def next_event(communicator: WebsocketCommunicator, expected: str) -> dict:
    """The next ASGI event the consumer sends to its client. Ends early when the consumer stops
    (asgiref's receive_output would wait out its whole timeout beside a consumer that crashed) or
    when a layer call shows that the event cannot come."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ARRIVE
    queue, consumer = communicator.output_queue, communicator.future
    while queue.empty() and not consumer.done() and loop.time() < deadline:
        if problem := layer_problem():
            pytest.fail(f"Expected {expected}, but nothing can arrive: {problem}", pytrace=False)
        await asyncio.sleep(0.01)
    if not queue.empty():
        return queue.get_nowait()
    if problem := crash_report(communicator, f"the test waited for {expected}"):
        pytest.fail(problem, pytrace=False)
    if consumer.done():
        pytest.fail(f"Expected {expected}, but ChatConsumer stopped without sending it.", pytrace=False)
    consumer.cancel()
    pytest.fail(f"Expected {expected} within {ARRIVE:g} s, but nothing arrived.", pytrace=False)


async def open_socket(path: str) -> WebsocketCommunicator:
    """A communicator whose socket the consumer accepted, or a test failure saying what happened."""
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    await communicator.send_input({"type": "websocket.connect"})
    event = await next_event(communicator, f"the socket to {path} to be accepted")
    if event["type"] == "websocket.accept":
        return communicator
    if event["type"] == "websocket.close":
        pytest.fail(f"The socket to {path} was closed (code {event.get('code')}) before it was accepted: a "
                    "browser then sees only a failed handshake (HTTP 403) and never learns why.", pytrace=False)
    pytest.fail(f"ChatConsumer sent {event.get('text', event)!r} to {path} before accepting the socket: "
                "await self.accept() in connect() before sending anything.", pytrace=False)


async def receive_frame(communicator: WebsocketCommunicator, expected: str) -> dict:
    """The next JSON frame the client gets; `expected` says what the test waits for, for the message."""
    event = await next_event(communicator, expected)
    if event["type"] == "websocket.close":
        pytest.fail(f"Expected {expected}, but the socket was closed (code {event.get('code')}).", pytrace=False)
    try:
        return json.loads(event["text"])
    except (KeyError, ValueError):
        pass
    pytest.fail(f"Expected {expected} as a JSON text frame, but the client got {event!r}.", pytrace=False)


async def receive_close(communicator: WebsocketCommunicator, expected: str) -> dict:
    """The close event the client gets next."""
    event = await next_event(communicator, expected)
    if event["type"] != "websocket.close":
        pytest.fail(f"Expected {expected}, but the client got {event.get('text', event)!r}.", pytrace=False)
    return event


async def send_text(communicator: WebsocketCommunicator, text: str) -> None:
    if problem := crash_report(communicator, "the client was about to send a frame"):
        pytest.fail(problem, pytrace=False)
    await communicator.send_to(text_data=text)


async def say(communicator: WebsocketCommunicator, message, **claims) -> None:
    """Send a chat frame: {"message": message}, plus any other keys a client might add."""
    await send_text(communicator, json.dumps({"message": message, **claims}))


async def hang_up(communicator: WebsocketCommunicator, doing: str = "the client left") -> None:
    """The client leaves; the consumer must then stop cleanly. `doing` says when a crash happened."""
    try:
        await communicator.disconnect(timeout=ARRIVE)
    except Exception:  # the consumer crashed, or it did not stop by the deadline
        pass
    else:
        return
    problem = crash_report(communicator, doing)
    pytest.fail(problem or f"ChatConsumer was still running {ARRIVE:g} s after the client left: disconnect() awaits "
                "something that never comes.", pytrace=False)


async def join_room(room_name: str) -> tuple[WebsocketCommunicator, str]:
    """A member in the room, past its welcome frame: (communicator, the member's name)."""
    communicator = await open_socket(f"/ws/chat/{room_name}/")
    welcome = await receive_frame(communicator, f"the welcome frame of room {room_name!r}")
    if welcome.get("type") != "welcome" or "name" not in welcome:
        pytest.fail(f"The first frame in a room must be the welcome; got {welcome}.", pytrace=False)
    return communicator, welcome["name"]


async def assert_received_nothing(communicator: WebsocketCommunicator, who: str, why: str = "") -> None:
    """`who` has been sent nothing so far: its own marker message is the first frame it gets back."""
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    await say(communicator, marker)
    frame = await receive_frame(communicator, f"the marker message {marker!r} that the test sent to check that "
                                              "nothing else had arrived")
    if frame.get("message") != marker:
        pytest.fail(f"{who} should have received nothing, but got {frame}. {why}".strip(), pytrace=False)
