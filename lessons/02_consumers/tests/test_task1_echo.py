"""Task 1: echo with a sync WebsocketConsumer (live/consumers/echo.py)."""

import asyncio

import pytest
from websockets.asyncio.client import connect

from live.consumers.echo import EchoConsumer

from .sockets import next_event, open_socket

pytestmark = pytest.mark.task(1)

echo = EchoConsumer.as_asgi()


async def test_the_echo_consumer_accepts_the_connection():
    communicator = await open_socket(echo, "/ws/echo/")
    await communicator.disconnect()


async def test_text_comes_back_as_text():
    communicator = await open_socket(echo, "/ws/echo/")
    await communicator.send_to(text_data="hello ☃")
    event = await next_event(communicator, "EchoConsumer", "the text back")
    assert event == {"type": "websocket.send", "text": "hello ☃"}, (
        f"Sent the text 'hello ☃', expected it back as text; got {event!r}.")
    await communicator.disconnect()


async def test_bytes_come_back_as_bytes():
    communicator = await open_socket(echo, "/ws/echo/")
    await communicator.send_to(bytes_data=b"\x00\x01binary")
    event = await next_event(communicator, "EchoConsumer", "the bytes back")
    assert event == {"type": "websocket.send", "bytes": b"\x00\x01binary"}, (
        f"A binary frame must come back as bytes: self.send(bytes_data=...); got {event!r}.")
    await communicator.disconnect()


async def test_a_real_websocket_client_gets_its_messages_back(daphne_with_users):
    async with connect(f"{daphne_with_users.ws_url}/ws/echo/", origin=daphne_with_users.origin, open_timeout=5) as socket:
        for message in ("one", "two", b"\xff three"):
            await socket.send(message)
            assert await asyncio.wait_for(socket.recv(), 5) == message, f"{message!r} did not come back as sent."
