"""Task 1: echo with a sync WebsocketConsumer (live/consumers/echo.py)."""

import pytest

from live.consumers.echo import EchoConsumer

from .live import real_socket, receive_real
from .sockets import leave, next_event, open_socket

pytestmark = pytest.mark.task(1)

echo = EchoConsumer.as_asgi()


async def echoed(frame: dict, waiting_for: str, hint: str = "") -> dict:
    """Send one frame (send_input: send_to refuses the empty string, a frame a client can send)."""
    communicator = await open_socket(echo, "/ws/echo/")
    await communicator.send_input({"type": "websocket.receive", **frame})
    event = await next_event(communicator, "EchoConsumer", waiting_for, hint=hint)
    await leave(communicator, "EchoConsumer")
    return event


async def test_the_echo_consumer_accepts_the_connection():
    communicator = await open_socket(echo, "/ws/echo/")
    await leave(communicator, "EchoConsumer")


async def test_text_comes_back_as_text():
    event = await echoed({"text": "hello ☃"}, "the text back")
    assert event == {"type": "websocket.send", "text": "hello ☃"}, (
        f"Sent the text 'hello ☃', expected it back as text; got {event!r}.")


async def test_an_empty_text_frame_comes_back_as_empty_text():
    hint = ('"" is text too: test `text_data is not None`; a truthiness test (`if text_data:`) '
            "treats it as a binary frame.")
    event = await echoed({"text": ""}, "the empty text back", hint=hint)
    assert event == {"type": "websocket.send", "text": ""}, f"Sent the text '', got {event!r}. {hint}"


async def test_bytes_come_back_as_bytes():
    event = await echoed({"bytes": b"\x00\x01binary"}, "the bytes back",
                         hint="A binary frame arrives as bytes_data; send it back with self.send(bytes_data=...).")
    assert event == {"type": "websocket.send", "bytes": b"\x00\x01binary"}, (
        f"A binary frame must come back as bytes: self.send(bytes_data=...); got {event!r}.")


async def test_a_real_websocket_client_gets_its_messages_back(daphne_with_users):
    async with real_socket(daphne_with_users, "/ws/echo/") as socket:
        for message in ("one", "two", b"\xff three"):
            await socket.send(message)
            back = await receive_real(socket, f"{message!r} back")
            assert back == message, f"Sent {message!r} to the real server, got {back!r} back."
