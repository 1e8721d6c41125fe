"""Lesson 01's clock as an async consumer: the ticks run in a task, the consumer keeps listening."""

import asyncio
import contextlib

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .ticks import tick_text


class ClockConsumer(AsyncWebsocketConsumer):
    ticker: asyncio.Task | None = None

    # --8<-- [start:send_ticks]
    async def send_ticks(self, interval: float) -> None:
        while True:
            await self.send(text_data=tick_text())
            await asyncio.sleep(interval)  # gives the event loop back; other sockets keep running
    # --8<-- [end:send_ticks]

    async def connect(self):
        # BEGIN SOLUTION task=2
        await self.accept()
        self.ticker = asyncio.create_task(self.send_ticks(settings.CLOCK_INTERVAL_SECONDS))
        # END SOLUTION

    async def disconnect(self, code):
        # BEGIN SOLUTION task=2
        if self.ticker is not None:
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticker
        # END SOLUTION
