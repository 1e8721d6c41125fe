"""The room socket: one consumer per open WebSocket, speaking the protocol in docs/final/protocol.md."""

import asyncio
import json
import logging
import time
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import IntegrityError, transaction

from . import protocol
from .models import Message, Room
from .presence import get_presence

logger = logging.getLogger(__name__)

# Close codes 4000-4999 belong to applications (RFC 6455); these echo HTTP's 401, 403 and 404.
NOT_LOGGED_IN, NOT_A_MEMBER, NO_SUCH_ROOM = 4401, 4403, 4404
TYPING_MIN_INTERVAL = 1.0  # seconds: typing frames closer than this are not passed on


class RateLimiter:
    """At most `limit` events in any `window` seconds (a sliding window of timestamps)."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= self.window:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


# --- the database, from async code ---------------------------------------------------------------

@database_sync_to_async
def find_room(slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


@database_sync_to_async
def may_enter(room: Room, user) -> bool:
    return room.can_enter(user)


@database_sync_to_async
def last_message_id(room: Room) -> int:
    return room.messages.order_by("-id").values_list("id", flat=True).first() or 0


# --8<-- [start:store_message]
@database_sync_to_async
def store_message(room: Room, user, text: str, client_id: str) -> tuple[dict, bool]:
    """(the message's frame, whether it is new). A client_id this user already used returns the original."""
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, user=user, text=text, client_id=client_id)
        return message.as_frame(), True
    except IntegrityError:  # the unique (user, client_id) constraint: this is a resend
        original = Message.objects.select_related("room", "user").get(user=user, client_id=client_id)
        return original.as_frame(), False
# --8<-- [end:store_message]


@database_sync_to_async
def messages_after(room: Room, after: int) -> list[dict]:
    messages = room.messages.filter(id__gt=after).select_related("room", "user").order_by("id")
    return [message.as_frame() for message in messages[: settings.CHAT_SYNC_BATCH]]


class RoomConsumer(AsyncWebsocketConsumer):
    room: Room | None = None
    heartbeat: asyncio.Task | None = None

    # --8<-- [start:connect]
    async def connect(self):
        self.user = self.scope["user"]
        # Accept, then close: only an open socket can carry a close code the client can read.
        if not self.user.is_authenticated:
            return await self.refuse(NOT_LOGGED_IN)
        room = await find_room(self.scope["url_route"]["kwargs"]["slug"])
        if room is None:
            return await self.refuse(NO_SUCH_ROOM)
        if not await may_enter(room, self.user):
            return await self.refuse(NOT_A_MEMBER)

        self.room, self.username = room, self.user.get_username()
        self.presence = get_presence()
        self.limiter = RateLimiter(*settings.CHAT_RATE_LIMIT)
        self.last_typing = 0.0
        await self.channel_layer.group_add(room.group_name, self.channel_name)
        await self.accept()
        await self.presence.join(room.slug, self.username, self.channel_name)
        online = await self.presence.online(room.slug)
        self.online_sent = online
        await self.send_json({"type": "welcome", "room": room.slug, "user": self.username,
                              "last_id": await last_message_id(room), "online": online})
        await self.broadcast({"type": "presence.update", "online": online})
        self.heartbeat = asyncio.create_task(self.beat())
    # --8<-- [end:connect]

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        if self.room is None:
            return
        if self.heartbeat:
            self.heartbeat.cancel()
        await self.channel_layer.group_discard(self.room.group_name, self.channel_name)
        await self.presence.leave(self.room.slug, self.username, self.channel_name)
        await self.broadcast({"type": "presence.update", "online": await self.presence.online(self.room.slug)})

    # --8<-- [start:heartbeat]
    async def beat(self):
        """Keep this socket's presence entry alive, and tell the client when the list changed
        without a broadcast (another process died and its entries expired)."""
        interval = settings.PRESENCE_TTL / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.presence.refresh(self.room.slug, self.username, self.channel_name)
                online = await self.presence.online(self.room.slug)
                if online != self.online_sent:
                    await self.send_presence(online)
            except Exception:  # Redis away for a moment: try again on the next beat
                logger.warning("presence heartbeat failed in room %s", self.room.slug, exc_info=True)
    # --8<-- [end:heartbeat]

    # --- frames from the client ---------------------------------------------------------------

    # --8<-- [start:receive]
    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame_type, fields = protocol.read_frame(text_data, bytes_data)
            if frame_type == "message":
                await self.on_message(**fields)
            elif frame_type == "typing":
                await self.on_typing()
            elif frame_type == "sync":
                await self.on_sync(**fields)
        except protocol.FrameError as error:
            # One bad frame is no reason to drop a member: answer it, keep the socket open.
            await self.send_json(error.as_frame())

    async def on_message(self, text: str, client_id: str):
        if not self.limiter.allow():
            limit, window = settings.CHAT_RATE_LIMIT
            raise protocol.FrameError("rate_limited", f"At most {limit:g} messages in {window:g} seconds.")
        # Stored first, then broadcast: the layer may drop the broadcast, history never loses it.
        frame, is_new = await store_message(self.room, self.user, text, client_id)
        if is_new:
            await self.broadcast({"type": "chat.message", "message": frame})
        else:  # a resend: the original, to this socket only
            await self.send_json(frame)
    # --8<-- [end:receive]

    async def on_typing(self):
        now = time.monotonic()
        if now - self.last_typing < TYPING_MIN_INTERVAL:
            return
        self.last_typing = now
        await self.broadcast({"type": "typing.notice", "user": self.username, "sender": self.channel_name})

    # --8<-- [start:sync]
    async def on_sync(self, after: int):
        last_id = after
        for frame in await messages_after(self.room, after):
            await self.send_json(frame)
            last_id = frame["id"]
        await self.send_json({"type": "synced", "last_id": last_id})
    # --8<-- [end:sync]

    # --- events from the room's group ---------------------------------------------------------

    async def broadcast(self, event: dict) -> None:
        await self.channel_layer.group_send(self.room.group_name, event)

    async def chat_message(self, event):
        await self.send_json(event["message"])

    async def typing_notice(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "typing", "user": event["user"]})

    async def presence_update(self, event):
        await self.send_presence(event["online"])

    async def send_presence(self, online: list[str]) -> None:
        self.online_sent = online
        await self.send_json({"type": "presence", "online": online})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))
