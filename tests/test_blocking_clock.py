"""Lesson 01's lesson: the old tutorials' `time.sleep` clock fails the two-client test the real one passes."""

import asyncio

from websockets.asyncio.client import connect

from coursekit import loopwatch
from coursekit.servers import DaphneServer


async def count_ticks(url: str, seconds: float) -> int:
    ticks = 0
    try:
        async with asyncio.timeout(seconds):
            async with connect(url) as socket:
                while True:
                    await socket.recv()
                    ticks += 1
    except TimeoutError:
        pass
    return ticks


async def test_two_clients_of_the_blocking_clock_get_no_ticks(course):
    lesson = course.lesson("01")
    server = DaphneServer(lesson.asgi_app, cwd=lesson.folder, env={"CLOCK_INTERVAL_SECONDS": "0.1",
                                                                  "DJANGO_SETTINGS_MODULE": "clocksite.settings"})
    server.start()
    try:
        ticks = await asyncio.gather(*(count_ticks(f"{server.ws_url}/ws/blocking-clock/", 4) for _ in range(2)))
    finally:
        server.process.kill()  # SIGTERM cannot reach an event loop that time.sleep is holding
        server.stop()
    assert ticks == [0, 0], f"the blocking clock delivered {ticks} ticks"
    log = server.log.read_text()
    assert loopwatch.LOG_MARKER in log, f"the server's watchdog did not notice the blocked loop:\n{log}"
    assert "realtime/blocking_clock.py" in log and "time.sleep(settings.CLOCK_INTERVAL_SECONDS)" in log
