"""Task 2: a raw ASGI WebSocket echo app (realtime/echo.py)."""

import pytest

from realtime.echo import echo_app

from .live import live_receive, live_socket
from .sockets import leave, leave_and_expect_the_app_to_return, next_event, open_socket

pytestmark = pytest.mark.task(2)

APP = "echo_app"


async def open_echo():
    return await open_socket(echo_app, "/ws/echo/")


async def echo_of(communicator, frame: dict, expected: str) -> dict:
    """Send one websocket.receive event carrying `frame` ({"text": ...} or {"bytes": ...}); return the reply."""
    await communicator.send_input({"type": "websocket.receive", **frame})
    return await next_event(communicator, APP, expected)


async def test_echo_accepts_the_connection():
    await leave(await open_echo())


async def test_echo_sends_text_back_as_text():
    communicator = await open_echo()
    reply = await echo_of(communicator, {"text": "hello ☃"}, "the text frame 'hello ☃' back")
    assert reply == {"type": "websocket.send", "text": "hello ☃"}, (
        f"A text frame must come back as {{'type': 'websocket.send', 'text': 'hello ☃'}}; {APP} sent {reply!r}.")
    await leave(communicator)


async def test_echo_sends_bytes_back_as_bytes():
    communicator = await open_echo()
    reply = await echo_of(communicator, {"bytes": b"\x00\x01binary"},
                          "the binary frame b'\\x00\\x01binary' back (an event carries either 'text' or 'bytes')")
    expected = {"type": "websocket.send", "bytes": b"\x00\x01binary"}
    if reply != expected and "text" in reply:
        pytest.fail(f"A binary frame must come back as bytes, {expected!r}; {APP} sent it back as text: {reply!r}.",
                    pytrace=False)
    assert reply == expected, f"A binary frame must come back as {expected!r}; {APP} sent {reply!r}."
    await leave(communicator)


async def test_echo_sends_an_empty_text_back_as_text():
    communicator = await open_echo()
    hint = "An empty string is still text: check `event.get('text') is not None`, not whether it is truthy."
    reply = await echo_of(communicator, {"text": ""}, f"the empty text frame '' back, as text. {hint}")
    assert reply == {"type": "websocket.send", "text": ""}, (
        f"An empty text frame must come back as {{'type': 'websocket.send', 'text': ''}}; {APP} sent {reply!r}. {hint}")
    await leave(communicator)


async def test_echo_returns_when_the_client_disconnects():
    await leave_and_expect_the_app_to_return(await open_echo(), APP)


async def test_a_real_websocket_client_gets_its_messages_back(daphne_server):
    async with live_socket(f"{daphne_server.ws_url}/ws/echo/") as socket:
        for text in ("one", "two", "three"):
            await socket.send(text)
            reply = await live_receive(socket, f"the echo of {text!r}")
            assert reply == text, f"Sent {text!r} to the echo on daphne; it answered {reply!r}."
