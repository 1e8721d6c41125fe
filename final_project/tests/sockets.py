"""Communicator helpers: open a room socket as a user, read frames with clear failures."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat_site.asgi import application

from .conftest import cookie_for

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def communicator(slug: str, user=None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if user is not None:
        headers.append(await sync_to_async(cookie_for)(user))
    return WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)


async def join(slug: str, user) -> WebsocketCommunicator:
    """A socket in room `slug` as `user`, its welcome frame already read (on `.welcome`)."""
    socket = await communicator(slug, user)
    connected, code = await socket.connect(timeout=3)
    assert connected, f"the socket to {slug} as {user} was refused (code {code})"
    socket.welcome = await frame(socket, "the welcome frame")
    assert socket.welcome["type"] == "welcome", socket.welcome
    return socket


async def frame(socket: WebsocketCommunicator, what: str, timeout: float = 3) -> dict:
    try:
        return await socket.receive_json_from(timeout=timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"Expected {what} within {timeout} s; nothing arrived.", pytrace=False)


async def frame_of_type(socket, frame_type: str, timeout: float = 3) -> dict:
    """The next frame of `frame_type`, skipping others (presence updates arrive at their own pace)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = await frame(socket, f"a {frame_type!r} frame", max(0.01, deadline - loop.time()))
        if got["type"] == frame_type:
            return got


async def nothing_more(socket, of_type: str | None = None, wait: float = 0.3) -> None:
    """No frame (of `of_type`, when given) arrives within `wait` seconds."""
    # receive_nothing, not a receive that times out: a timed-out receive cancels the application.
    while not await socket.receive_nothing(timeout=wait):
        got = await socket.receive_json_from()
        assert of_type is not None and got["type"] != of_type, f"unexpected frame: {got}"


async def send(socket, payload) -> None:
    await socket.send_to(text_data=json.dumps(payload))


async def close_code(slug: str, user=None, origin=ORIGIN) -> int | None:
    """The close code a socket gets right after opening (None: refused during the handshake)."""
    socket = await communicator(slug, user, origin)
    connected, code = await socket.connect(timeout=3)
    if not connected:
        return code
    output = await socket.receive_output(timeout=3)
    await socket.disconnect()
    assert output["type"] == "websocket.close", f"expected a close, got {output}"
    return output["code"]
