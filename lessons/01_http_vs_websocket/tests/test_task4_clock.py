"""Task 4: push the time every interval without blocking (realtime/clock.py)."""

import asyncio
import json
from datetime import datetime, timezone

import pytest
from websockets.exceptions import ConnectionClosed

from coursekit.timing import scaled
from realtime.clock import clock_app

from .live import live_socket
from .sockets import leave, leave_and_expect_the_app_to_return, next_event, open_socket, wait_until

pytestmark = pytest.mark.task(4)

APP = "clock_app"
INTERVAL = 0.05
SERVER_INTERVAL = 0.1  # CLOCK_INTERVAL_SECONDS of the test daphne (pytest.ini)


@pytest.fixture
def fast_clock(settings):
    settings.CLOCK_INTERVAL_SECONDS = INTERVAL


async def next_tick(communicator, if_returned: str = "") -> datetime:
    event = await next_event(communicator, APP, f"a tick every {INTERVAL} s", if_returned)
    if event.get("type") != "websocket.send" or not isinstance(event.get("text"), str):
        pytest.fail(f"A tick is a text frame, {{'type': 'websocket.send', 'text': tick_text()}}; "
                    f"{APP} sent {event!r}.", pytrace=False)
    tick = json.loads(event["text"])
    assert tick.get("type") == "tick", f"A tick is {{'type': 'tick', 'time': ...}}; got {tick!r}."
    return datetime.fromisoformat(tick["time"])


async def test_the_clock_accepts_and_ticks_every_interval_from_the_setting(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    times = [await next_tick(communicator) for _ in range(3)]
    assert times == sorted(times) and len(set(times)) == 3, f"Ticks must move forward; got {times}."
    # Two intervals of 0.05 s: even a busy machine stays far below 1 s, while a clock that ticks
    # every second whatever the setting says takes 2 s.
    span = (times[-1] - times[0]).total_seconds()
    if span >= 1:
        pytest.fail(f"3 ticks took {span:.2f} s with CLOCK_INTERVAL_SECONDS = {INTERVAL}: pass "
                    "settings.CLOCK_INTERVAL_SECONDS to send_ticks, not a fixed number.", pytrace=False)
    await leave(communicator)


async def test_the_clock_returns_when_the_client_leaves(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    await next_tick(communicator)
    await leave_and_expect_the_app_to_return(communicator, APP)


async def test_the_ticker_task_is_cancelled_when_the_client_leaves(fast_clock):
    before = asyncio.all_tasks()
    communicator = await open_socket(clock_app, "/ws/clock/")
    await next_tick(communicator)
    await leave_and_expect_the_app_to_return(communicator, APP)

    def left_running() -> list[asyncio.Task]:
        return [task for task in asyncio.all_tasks() - before if task is not communicator.future and not task.done()]

    # A cancelled task ends at its next step; one that nobody cancelled ticks on.
    if await wait_until(lambda: not left_running(), scaled(0.5)):
        return
    names = ", ".join(sorted({task.get_coro().__qualname__ for task in left_running()}))
    for task in left_running():
        task.cancel()
    pytest.fail(f"{APP} returned, but the task it started ({names}) kept running after websocket.disconnect, "
                "sending ticks to nobody: cancel it when the client leaves (ticker.cancel() in a finally: "
                "block), then await it.", pytrace=False)


async def test_the_clock_keeps_ticking_whatever_the_client_sends(fast_clock):
    communicator = await open_socket(clock_app, "/ws/clock/")
    await next_tick(communicator)
    await communicator.send_input({"type": "websocket.receive", "text": "what time is it?"})
    spoke = datetime.now(timezone.utc)
    hint = (f"The client sent 'what time is it?' and {APP} stopped: only websocket.disconnect ends the clock, "
            "so keep reading events until websocket.disconnect arrives.")
    ticks_since = 0
    while ticks_since < 2:
        ticks_since += await next_tick(communicator, if_returned=hint) > spoke
    await leave(communicator)


async def test_two_clients_on_a_real_server_both_get_ticks(daphne_server):
    url = f"{daphne_server.ws_url}/ws/clock/"
    clients = [{"open": False, "ticks": 0, "closed": ""} for _ in range(2)]

    async def watch(client: dict) -> None:
        async with live_socket(url) as socket:
            client["open"] = True
            try:
                while client["ticks"] < 3:
                    await socket.recv()
                    client["ticks"] += 1
            except ConnectionClosed as closed:
                client["closed"] = f" before the server closed it (code {closed.rcvd.code if closed.rcvd else 'none'})"

    seconds = scaled(5)
    try:
        async with asyncio.timeout(seconds):
            await asyncio.gather(*(watch(client) for client in clients))
    except TimeoutError:
        pass
    if any(client["ticks"] < 3 for client in clients):
        seen = [f"{client['ticks']} ticks{client['closed']}" if client["open"] else "a socket that never opened"
                for client in clients]
        pytest.fail(f"Two clients of {url}, at the same time, on one real daphne: each should get 3 ticks "
                    f"(one every {SERVER_INTERVAL} s), but within {seconds:.0f} s the first got {seen[0]} and "
                    f"the second {seen[1]}.", pytrace=False)
