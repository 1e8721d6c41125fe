"""Task 2: push the clock from an AsyncWebsocketConsumer (live/consumers/clock.py)."""

import asyncio
import json
from datetime import datetime

import pytest

from live.consumers.clock import ClockConsumer

from .sockets import next_json, open_socket

pytestmark = pytest.mark.task(2)

INTERVAL = 0.05
clock = ClockConsumer.as_asgi()


@pytest.fixture
def fast_clock(settings):
    settings.CLOCK_INTERVAL_SECONDS = INTERVAL


async def receive_ticks(communicator, count: int) -> list[datetime]:
    times = []
    for _ in range(count):
        tick = await next_json(communicator, "ClockConsumer", f"a tick every {INTERVAL} s")
        assert tick.get("type") == "tick", f"A tick is {{'type': 'tick', 'time': ...}}; got {tick!r}."
        times.append(datetime.fromisoformat(tick["time"]))
    return times


def tickers() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if "send_ticks" in repr(task.get_coro())]


async def test_the_clock_ticks_every_interval_from_the_setting(fast_clock):
    communicator = await open_socket(clock, "/ws/clock/")
    times = await receive_ticks(communicator, 4)
    assert times == sorted(times) and len(set(times)) == 4, f"Ticks must move forward; got {times}."
    span = (times[-1] - times[0]).total_seconds()
    assert span < 1, (f"4 ticks took {span:.2f} s with CLOCK_INTERVAL_SECONDS = {INTERVAL}: "
                      "use settings.CLOCK_INTERVAL_SECONDS, not a fixed number.")
    await communicator.disconnect()


async def test_the_ticker_stops_when_the_client_leaves(fast_clock):
    communicator = await open_socket(clock, "/ws/clock/")
    await receive_ticks(communicator, 1)
    await communicator.disconnect(timeout=1)
    await asyncio.sleep(INTERVAL * 2)
    assert not [task for task in tickers() if not task.done()], (
        "The send_ticks task was still running after the client left: cancel it in disconnect().")


async def test_the_clock_ignores_what_the_client_sends(fast_clock):
    communicator = await open_socket(clock, "/ws/clock/")
    await communicator.send_to(text_data="what time is it?")
    await receive_ticks(communicator, 2)
    await communicator.disconnect()
