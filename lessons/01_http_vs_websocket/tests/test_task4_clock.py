"""Task 4: push the time every interval without blocking (realtime/clock.py)."""

import asyncio
import json
from datetime import datetime

import pytest
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect

from realtime.clock import clock_app

from .asgi_calls import open_socket

pytestmark = pytest.mark.task(4)

INTERVAL = 0.05


async def receive_ticks(communicator: WebsocketCommunicator, count: int) -> list[datetime]:
    times = []
    for _ in range(count):
        try:
            text = await communicator.receive_from(timeout=1)
        except TimeoutError:
            pytest.fail(f"Expected a tick every {INTERVAL} s, but got only {len(times)} in the time allowed.")
        tick = json.loads(text)
        assert tick["type"] == "tick", f"A tick is {{'type': 'tick', 'time': ...}}; got {tick!r}."
        times.append(datetime.fromisoformat(tick["time"]))
    return times


@pytest.fixture
def fast_clock(settings):
    settings.CLOCK_INTERVAL_SECONDS = INTERVAL


async def test_the_clock_accepts_and_ticks_every_interval(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    times = await receive_ticks(communicator, 4)
    assert times == sorted(times) and len(set(times)) == 4, f"Ticks must move forward; got {times}."
    await communicator.disconnect()


async def test_the_clock_stops_when_the_client_leaves(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    await receive_ticks(communicator, 1)
    try:
        await communicator.disconnect(timeout=1)
    except TimeoutError:
        pytest.fail("clock_app kept running after websocket.disconnect: listen for it and stop the ticker.")
    assert communicator.future.exception() is None


async def test_the_clock_ignores_what_the_client_sends(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    await communicator.send_to(text_data="what time is it?")
    await receive_ticks(communicator, 2)
    await communicator.disconnect()


async def count_ticks(url: str, seconds: float) -> int:
    ticks = 0
    try:
        async with connect(url, open_timeout=seconds) as socket:
            async with asyncio.timeout(seconds):
                while True:
                    await socket.recv()
                    ticks += 1
    except TimeoutError:
        return ticks


async def test_two_clients_on_a_real_server_both_get_ticks(daphne_server):
    # The test server ticks every 0.1 s (pytest.ini): in 0.6 s each client should see about 6 ticks.
    first, second = await asyncio.gather(
        count_ticks(f"{daphne_server.ws_url}/ws/clock/", 0.6),
        count_ticks(f"{daphne_server.ws_url}/ws/clock/", 0.6),
    )
    assert first >= 3 and second >= 3, f"Two clients at once got {first} and {second} ticks in 0.6 s."

