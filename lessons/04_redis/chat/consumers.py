"""The chat consumer: every socket in a room hears every message sent to that room, whatever its process."""

import json
import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What the Redis layers raise when Redis cannot be reached (refused, reset, timed out).
BROKER_ERRORS = (RedisConnectionError, RedisTimeoutError)
# Redis is away: the client gets this frame, then the socket closes with this code. Applications may
# use 4000-4999 (daphne refuses 1011 from an app); 4503 echoes HTTP's 503 Service Unavailable.
BROKER_UNAVAILABLE_CLOSE_CODE = 4503
BROKER_UNAVAILABLE = {"type": "error", "code": "broker_unavailable",
                      "detail": "The server cannot reach Redis. Reconnect in a moment."}


def group_name(room: str) -> str:
    return f"chat.{room}"


class ChatConsumer(AsyncJsonWebsocketConsumer):
    accepted = False

    # --8<-- [start:call]
    async def __call__(self, scope, receive, send):
        # The layer's receive loop runs under this call: when Redis goes away, the error surfaces
        # here, whatever the consumer was doing. Left alone it becomes a traceback and a bare 1011 from daphne.
        try:
            await super().__call__(scope, receive, send)
        except BROKER_ERRORS as error:
            await self.broker_unavailable(send, error)
    # --8<-- [end:call]

    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.group = group_name(self.room)
        # BEGIN SOLUTION task=2
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # END SOLUTION
        self.accepted = True

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Malformed JSON gets an error frame, not a crashed consumer.
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_json", "detail": "Frames must be JSON text."})

    async def receive_json(self, content, **kwargs):
        text = content.get("text") if isinstance(content, dict) else None
        if not isinstance(text, str) or not text.strip():
            await self.send_json({"type": "error", "code": "bad_message",
                                  "detail": 'Send a JSON object like {"text": "hello"}.'})
            return
        await self.relay(text)

    # --8<-- [start:relay]
    async def relay(self, text: str) -> None:
        """Send the message to the room's group: every member, in this process or another."""
        # BEGIN SOLUTION task=2
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "room": self.room, "text": text})
        # END SOLUTION

    async def chat_message(self, event):
        """The handler of "chat.message" events: pass the message on to this socket's client."""
        # BEGIN SOLUTION task=2
        await self.send_json({"type": "message", "room": event["room"], "text": event["text"]})
        # END SOLUTION
    # --8<-- [end:relay]

    # --8<-- [start:broker_unavailable]
    async def broker_unavailable(self, send, error) -> None:
        """Redis is away: log it, tell the client with an error frame, then close with BROKER_UNAVAILABLE_CLOSE_CODE."""
        # BEGIN SOLUTION task=4
        logger.warning("Redis unavailable, closing the socket on %s: %s", self.scope["path"], error)
        if not self.accepted:  # Redis failed during connect: accept, so the client can read why.
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(BROKER_UNAVAILABLE)})
        await send({"type": "websocket.close", "code": BROKER_UNAVAILABLE_CLOSE_CODE})
        # END SOLUTION
    # --8<-- [end:broker_unavailable]
