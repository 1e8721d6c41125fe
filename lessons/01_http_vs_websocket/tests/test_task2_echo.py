"""Task 2: a raw ASGI WebSocket echo app (realtime/echo.py)."""

import asyncio

import pytest
from websockets.asyncio.client import connect

from realtime.echo import echo_app

from .asgi_calls import open_socket

pytestmark = pytest.mark.task(2)


async def open_echo():
    return await open_socket(echo_app, "/ws/echo/")


async def test_echo_accepts_the_connection():
    communicator = await open_echo()
    await communicator.disconnect()


async def test_echo_sends_text_back_as_text():
    communicator = await open_echo()
    await communicator.send_to(text_data="hello ☃")
    assert await communicator.receive_from(timeout=2) == "hello ☃"
    await communicator.disconnect()


async def test_echo_sends_bytes_back_as_bytes():
    communicator = await open_echo()
    await communicator.send_to(bytes_data=b"\x00\x01binary")
    event = await communicator.receive_output(timeout=2)
    assert event == {"type": "websocket.send", "bytes": b"\x00\x01binary"}, (
        f"A binary frame must come back as {{'type': 'websocket.send', 'bytes': ...}}; got {event!r}.")
    await communicator.disconnect()


async def test_echo_returns_when_the_client_disconnects():
    communicator = await open_echo()
    try:
        await communicator.disconnect(timeout=1)
    except TimeoutError:
        pytest.fail("echo_app was still running 1 s after websocket.disconnect: return from the app when it arrives.")


async def test_a_real_websocket_client_gets_its_messages_back(daphne_server):
    async with connect(f"{daphne_server.ws_url}/ws/echo/", open_timeout=5) as socket:
        for text in ("one", "two", "three"):
            await socket.send(text)
            assert await asyncio.wait_for(socket.recv(), 5) == text
