"""Helpers for the tests: a chat socket through a communicator, a layer chosen per test, real clients."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from redissite import layers
from redissite.asgi import application

ORIGIN = [(b"origin", b"http://127.0.0.1")]


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


async def open_chat(room: str) -> WebsocketCommunicator:
    """A socket joined to `room`, or a test failure that says why the consumer did not accept it."""
    communicator = WebsocketCommunicator(application, f"/ws/chat/{room}/", headers=ORIGIN)
    try:
        connected, _ = await communicator.connect(timeout=2)
    except BaseException:  # the consumer crashed or never answered: say which, in the learner's words
        connected = False
    if not connected:
        crash = communicator.future.exception() if communicator.future.done() else None
        if crash is not None:
            pytest.fail(f"ChatConsumer raised {type(crash).__name__}: {crash}", pytrace=False)
        pytest.fail(f"ChatConsumer did not accept a socket to room {room!r} within 2 s.", pytrace=False)
    return communicator


async def next_frame(communicator: WebsocketCommunicator, what: str, timeout: float = 2) -> dict:
    try:
        return await communicator.receive_json_from(timeout=timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"Expected {what} within {timeout} s; nothing arrived.", pytrace=False)


async def real_frame(socket, what: str, timeout: float = 3) -> dict:
    """The next JSON frame an ordinary WebSocket client receives, or a failure that says what was awaited."""
    try:
        return json.loads(await asyncio.wait_for(socket.recv(), timeout))
    except TimeoutError:
        pytest.fail(f"Expected {what} within {timeout} s; nothing arrived.", pytrace=False)
