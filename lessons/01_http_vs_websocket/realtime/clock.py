"""The digital clock done right: the server pushes a tick every interval, and never blocks.

Two things happen at once on this socket: sending ticks on a timer, and listening for the
client going away. Ticks run in their own task; this coroutine keeps reading events, and
stops the ticker when the socket closes.
"""

import asyncio
import contextlib

from django.conf import settings

from .ticks import tick_text


# --8<-- [start:send_ticks]
async def send_ticks(send, interval: float) -> None:
    while True:
        await send({"type": "websocket.send", "text": tick_text()})
        await asyncio.sleep(interval)  # yields to the event loop; other sockets keep running
# --8<-- [end:send_ticks]


async def clock_app(scope, receive, send):
    # BEGIN SOLUTION task=4
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    ticker = asyncio.create_task(send_ticks(send, settings.CLOCK_INTERVAL_SECONDS))
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass  # the clock ignores what the client says
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    # END SOLUTION
