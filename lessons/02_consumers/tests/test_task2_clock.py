"""Task 2: push the clock from an AsyncWebsocketConsumer (live/consumers/clock.py)."""

import asyncio
from datetime import datetime

import pytest
from channels.testing import WebsocketCommunicator

from coursekit.timing import scaled
from live.consumers.clock import ClockConsumer

from .sockets import Watch, leave, next_json, open_socket, waiting_for_the_client

pytestmark = pytest.mark.task(2)

INTERVAL = 0.05
clock = ClockConsumer.as_asgi()


@pytest.fixture
def tickers(settings, monkeypatch) -> list[tuple[float, asyncio.Task]]:
    """A short CLOCK_INTERVAL_SECONDS, and a record of every send_ticks started: (interval, its task)."""
    settings.CLOCK_INTERVAL_SECONDS = INTERVAL
    started = []
    send_ticks = ClockConsumer.send_ticks

    async def recorded_send_ticks(self, interval):
        started.append((interval, asyncio.current_task()))
        await send_ticks(self, interval)

    monkeypatch.setattr(ClockConsumer, "send_ticks", recorded_send_ticks)
    return started


async def receive_ticks(communicator, count: int) -> list[datetime]:
    times = []
    for _ in range(count):
        tick = await next_json(communicator, "ClockConsumer", f"a tick every {INTERVAL} s", waits_on_a_task=True)
        assert tick.get("type") == "tick", f"A tick is {{'type': 'tick', 'time': ...}}; got {tick!r}."
        times.append(datetime.fromisoformat(tick["time"]))
    return times


async def ticking_clock(tickers) -> WebsocketCommunicator:
    """A socket to the clock that has sent two ticks, after checking how they were started."""
    communicator = await open_socket(clock, "/ws/clock/")
    await receive_ticks(communicator, 2)
    if not tickers:
        pytest.fail("Ticks arrive, but not from send_ticks: start it with "
                    "asyncio.create_task(self.send_ticks(settings.CLOCK_INTERVAL_SECONDS)).", pytrace=False)
    # Not a guess about timing: a connect() that returned gives the consumer back to its loop, which
    # waits for the client's next event before send_ticks even sleeps once. By the second tick that
    # holds; the deadline is only a margin.
    with Watch(communicator, "ClockConsumer") as watch:
        listening = await watch.until(lambda: waiting_for_the_client(communicator), timeout=scaled(1))
    if not listening:
        communicator.future.cancel()
        pytest.fail("ClockConsumer sends ticks, but its connect() never returns, so it cannot hear the client "
                    "or see it leave: start send_ticks with asyncio.create_task(...) and keep the task on "
                    "self.ticker; do not await send_ticks in connect().", pytrace=False)
    return communicator


async def test_the_clock_ticks_every_interval_from_the_setting(tickers):
    communicator = await ticking_clock(tickers)
    interval = tickers[0][0]
    assert interval == INTERVAL, (
        f"send_ticks was started with the interval {interval!r}, but settings.CLOCK_INTERVAL_SECONDS is "
        f"{INTERVAL}: read settings.CLOCK_INTERVAL_SECONDS in connect(), not a fixed number, and not once "
        "when the module is imported (the tests change the setting).")
    times = await receive_ticks(communicator, 2)
    assert times == sorted(times) and len(set(times)) == 2, f"Ticks must move forward; got {times}."
    await leave(communicator, "ClockConsumer")


async def test_the_ticker_stops_when_the_client_leaves(tickers):
    communicator = await ticking_clock(tickers)
    await leave(communicator, "ClockConsumer")
    running = [task for _, task in tickers if not task.done()]
    if running:  # cancel() is only delivered at the task's next step: give it that step, no more
        with Watch(communicator, "ClockConsumer") as watch:
            await watch.until(lambda: all(task.done() for task in running), timeout=scaled(0.5))
    if not all(task.done() for task in running):
        pytest.fail("The send_ticks task was still running after the client left: cancel it in disconnect() "
                    "(self.ticker.cancel()), or it ticks into a closed socket forever.", pytrace=False)


async def test_the_clock_ignores_what_the_client_sends(tickers):
    communicator = await ticking_clock(tickers)
    await communicator.send_to(text_data="what time is it?")
    await receive_ticks(communicator, 2)
    await leave(communicator, "ClockConsumer")
