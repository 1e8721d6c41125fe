"""The Channels 1 examples, rewritten as consumers: one instance per socket, one method per event."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer, WebsocketConsumer

from .models import IntegerValue


# --8<-- [start:echo]
class EchoConsumer(WebsocketConsumer):
    # connect() is not written: the default accepts the socket.
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=text_data)  # to this consumer's own client
# --8<-- [end:echo]


# --8<-- [start:chat]
class ChatConsumer(AsyncWebsocketConsumer):
    group = "chat"

    async def connect(self):
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # An event for every member's consumer, not a frame for their sockets.
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": f"[user] {text_data}"})

    async def chat_message(self, event):  # "chat.message" calls chat_message
        await self.send(text_data=event["text"])
# --8<-- [end:chat]


# --8<-- [start:room]
class RoomConsumer(ChatConsumer):
    async def connect(self):
        # What channel_session kept between messages now lives on self, for the socket's life.
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.group = f"chat-{self.room}"
        await super().connect()
# --8<-- [end:room]


# --8<-- [start:user]
class InitialChatConsumer(ChatConsumer):
    async def connect(self):
        user = self.scope["user"]  # set by AuthMiddlewareStack, from the session cookie
        if not user.is_authenticated:
            await self.close()  # before accept(): the handshake is refused with HTTP 403
            return
        initial = user.username[0].lower()
        # Group names are ASCII letters, digits, "-", "_" and "." only.
        self.group = f"chat-{initial}" if initial.isascii() and initial.isalnum() else "chat-other"
        await super().connect()
# --8<-- [end:user]


# --8<-- [start:ordering]
class CountingChatConsumer(ChatConsumer):
    sent = 0

    async def receive(self, text_data=None, bytes_data=None):
        # No decorator: this instance gets its socket's frames one at a time, in order.
        self.sent += 1
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": f"{self.sent}: {text_data}"})
# --8<-- [end:ordering]


# --8<-- [start:queued]
class QueuedRoomConsumer(RoomConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        # To a named channel: a worker (workers.py) saves the message, then tells the room.
        await self.channel_layer.send(
            "chat-messages", {"type": "save.message", "room": self.room, "message": text_data}
        )
# --8<-- [end:queued]


# --8<-- [start:demultiplexer]
class StreamsConsumer(AsyncJsonWebsocketConsumer):
    """One socket, several streams: every frame is {"stream": ..., "payload": {...}}, both ways."""

    groups = ["intval-updates"]  # joined on connect, left on disconnect (was connection_groups)

    def streams(self) -> dict:
        return {"echo": self.echo, "intval": self.intval}

    async def receive_json(self, content, **kwargs):
        handler = self.streams().get(content.get("stream")) if isinstance(content, dict) else None
        if handler is None:
            await self.send_stream("error", {"detail": f"Known streams: {', '.join(self.streams())}."})
            return
        await handler(content.get("payload") or {})

    async def send_stream(self, stream: str, payload: dict):
        await self.send_json({"stream": stream, "payload": payload})

    async def echo(self, payload: dict):
        await self.send_stream("echo", {"original_message": payload})
# --8<-- [end:demultiplexer]

    # --8<-- [start:binding_inbound]
    async def intval(self, payload: dict):
        """A client sets a value: {"stream": "intval", "payload": {"name": "a", "value": 3}}."""
        if not await self.scope["user"].ahas_perm("channels1_today.change_integervalue"):
            await self.send_stream("error", {"detail": "You may not change values."})
            return
        name, value = payload.get("name"), payload.get("value")
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int):
            await self.send_stream("error", {"detail": 'Send a "name" string and a "value" integer.'})
            return
        await IntegerValue.objects.aupdate_or_create(name=name, defaults={"value": value})
        # No reply here: the post_save receiver (signals.py) tells every socket in the group.

    async def intval_changed(self, event):  # the group's "intval.changed" events
        await self.send_stream("intval", {key: event[key] for key in ("action", "pk", "data")})
    # --8<-- [end:binding_inbound]
