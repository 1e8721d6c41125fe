"""The digital clock as old tutorials write it. Do not copy this: it is here to show the bug.

`time.sleep` is a blocking call. Inside `async def` it stops the whole event loop, and that loop is
the one serving every socket and every HTTP request of this process. Even the accept and the first
tick never leave the server, because sending them needs the loop this code is holding.
"""

import time

from django.conf import settings

from .ticks import tick_text


async def blocking_clock_app(scope, receive, send):
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        await send({"type": "websocket.send", "text": tick_text()})
        time.sleep(settings.CLOCK_INTERVAL_SECONDS)  # the bug: blocks the event loop
