"""The room socket: one consumer per open WebSocket, speaking the protocol in docs/final/protocol.md."""

import asyncio
import json
import logging
import time
from collections import deque

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import protocol
from .broker import BROKER_ERRORS
from .models import Draft, Room
from .presence import RoomList, get_presence
from .sessions import session_group
from .writer import NotStored, RoomGone, writer

logger = logging.getLogger(__name__)

# Close codes 4000-4999 belong to applications (RFC 6455); these echo HTTP's 401, 403, 404 and 503.
NOT_LOGGED_IN, NOT_A_MEMBER, NO_SUCH_ROOM, BROKER_UNAVAILABLE = 4401, 4403, 4404, 4503
BROKER_UNAVAILABLE_FRAME = {"type": "error", "code": "broker_unavailable",
                            "detail": "The server cannot reach Redis. Reconnecting in a moment."}
# What the server raises when the app sends to a client that has just gone: its disconnect event follows.
# daphne raises autobahn's Disconnected; uvicorn (the bench runs the chat on it too) its ClientDisconnected.
CLIENT_GONE: tuple[type[BaseException], ...] = (Disconnected,)
try:
    from uvicorn.protocols.utils import ClientDisconnected
except ImportError:  # uvicorn is not installed: daphne serves the chat
    pass
else:
    CLIENT_GONE += (ClientDisconnected,)
TYPING_MIN_INTERVAL = 1.0  # seconds: typing frames closer than this are not passed on
CLEANUP_TIMEOUT = 5.0  # seconds a closing consumer spends leaving its room before it gives up


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

    def retry_after(self) -> float:
        """Seconds until the next event is allowed."""
        return max(0.0, self.window - (time.monotonic() - self.times[0])) if self.times else 0.0


def presence_frame(online: list[str]) -> str:
    """The frame that tells a client who is online."""
    return json.dumps({"type": "presence", "online": online})


# --- the database, from async code ---------------------------------------------------------------

@database_sync_to_async
def look_up_room(slug: str, user) -> tuple[Room | None, bool, int]:
    """The room, whether `user` may enter it, and the number of its newest message (every number up to it
    is committed): one trip to the database thread instead of three."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return None, False, 0
    return room, room.can_enter(user), room.last_seq




@database_sync_to_async
def messages_after(room: Room, after: int) -> list[dict]:
    messages = room.messages.filter(seq__gt=after).select_related("room", "user").order_by("seq")
    return [message.as_frame() for message in messages[: settings.CHAT_SYNC_BATCH]]


class RoomConsumer(AsyncWebsocketConsumer):
    room: Room | None = None
    heartbeat: asyncio.Task | None = None
    accepted = False
    joined: tuple[str, ...] = ()  # the groups this socket is in: what leave_room() undoes

    # --8<-- [start:dispatch]
    async def dispatch(self, message):
        """Channels (4.2+) first hops to the database thread before every event, to close connections that
        have gone stale, for handlers that use the ORM without database_sync_to_async. Every database call
        here goes through database_sync_to_async, which does that check itself, in the same thread. So the
        hop only costs: one per socket for every message a room receives. Skip it."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
    # --8<-- [end:dispatch]

    # --8<-- [start:call]
    async def __call__(self, scope, receive, send):
        async def send_unless_gone(message):
            try:
                await send(message)
            except CLIENT_GONE:  # the client left while a frame was on its way: nothing to tell it
                pass

        try:
            await super().__call__(scope, receive, send_unless_gone)
        except BROKER_ERRORS as error:
            # The layer's receive loop runs under this call: a Redis outage surfaces here, whatever
            # the consumer was doing. Tell the client, close with 4503; it reconnects with backoff.
            await self.broker_unavailable(send_unless_gone, error)
        finally:
            # However the consumer ends (a clean close, a crash, a cancellation), its heartbeat stops
            # and it leaves its room: no ghost stays online, no dead channel stays in the group.
            await self.leave_room()
    # --8<-- [end:call]

    # --8<-- [start:connect]
    async def connect(self):
        self.user = self.scope["user"]
        # Accept, then close: only an open socket can carry a close code the client can read.
        if not self.user.is_authenticated:
            return await self.refuse(NOT_LOGGED_IN)
        room, allowed, last_id = await look_up_room(self.scope["url_route"]["kwargs"]["slug"], self.user)
        if room is None:
            return await self.refuse(NO_SUCH_ROOM)
        if not allowed:
            return await self.refuse(NOT_A_MEMBER)

        self.room, self.username = room, self.user.get_username()
        self.presence = get_presence()
        self.message_limiter = RateLimiter(*settings.CHAT_RATE_LIMIT)
        self.sync_limiter = RateLimiter(*settings.CHAT_SYNC_RATE_LIMIT)
        self.last_typing = 0.0
        # The room's group, and the session's (a logout closes every socket of the session).
        self.joined = (room.group_name, session_group(self.scope["session"].session_key))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.accepted = True
        room_list = await self.presence.join(room.slug, self.username, self.channel_name)
        self.known_version, self.presence_sent = room_list.version, presence_frame(room_list.online)
        await self.send_json({"type": "welcome", "room": room.slug, "user": self.username,
                              "last_id": last_id, "online": room_list.online})
        await self.broadcast_presence(room_list)
        self.heartbeat = asyncio.create_task(self.beat())
    # --8<-- [end:connect]

    async def refuse(self, code: int) -> None:
        await self.accept()
        self.accepted = True
        await self.close(code=code)

    async def disconnect(self, code):
        await self.leave_room()

    async def leave_room(self) -> None:
        """Stop the heartbeat, leave the groups and the presence list; tell the room. Runs once."""
        groups, self.joined = self.joined, ()
        if not groups:
            return
        if self.heartbeat:
            self.heartbeat.cancel()
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT):
                for group in groups:
                    await self.channel_layer.group_discard(group, self.channel_name)
                room_list = await self.presence.leave(self.room.slug, self.username, self.channel_name)
                await self.broadcast_presence(room_list)
        except (*BROKER_ERRORS, TimeoutError) as error:
            # The entries expire by themselves: presence within PRESENCE_TTL, the groups within GROUP_EXPIRY.
            logger.warning("Socket in room %s left without cleaning up (%s): its entries will expire.",
                           self.room.slug, str(error) or type(error).__name__)

    async def broker_unavailable(self, send, error) -> None:
        logger.warning("Redis unavailable, closing the socket on %s: %s", self.scope["path"], error)
        if not self.accepted:  # Redis failed during connect: accept, so the client can read why.
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(BROKER_UNAVAILABLE_FRAME)})
        await send({"type": "websocket.close", "code": BROKER_UNAVAILABLE})

    # --8<-- [start:heartbeat]
    async def beat(self):
        """Keep this socket's presence entry and group memberships alive, and tell the client when the
        list changed without a broadcast (another process died and its entries expired). O(1) per beat:
        the whole list is read only when the room's version moved."""
        interval = settings.PRESENCE_TTL / 3
        while True:
            await asyncio.sleep(interval)
            # leave_room() cancels this task, but a cancellation that lands while a Redis read times out
            # can come back as a Redis error (caught below) and be lost: stop on the socket's own word too.
            if not self.joined:
                return
            try:
                version = await self.presence.refresh(self.room.slug, self.username, self.channel_name)
                for group in self.joined:
                    await self.channel_layer.group_add(group, self.channel_name)
                if version != self.known_version:
                    room_list = await self.presence.online(self.room.slug)
                    await self.show_presence(room_list.version, presence_frame(room_list.online))
            except BROKER_ERRORS as error:  # Redis away for a moment: try again on the next beat
                logger.warning("Presence heartbeat failed in room %s: %s", self.room.slug, error)
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
        except RoomGone:
            await self.close(code=NO_SUCH_ROOM)

    async def on_message(self, text: str, client_id: str):
        if not self.message_limiter.allow():
            limit, window = settings.CHAT_RATE_LIMIT
            raise protocol.FrameError("rate_limited", f"At most {limit:g} messages in {window:g} seconds.",
                                      frame_type="message", client_id=client_id,
                                      retry_after=self.message_limiter.retry_after())
        # Stored first, then broadcast: the layer may drop the broadcast, history never loses it. The writer
        # stores the messages of all this process's sockets in batches (rooms/writer.py).
        try:
            frame, is_new = await writer().store(Draft(self.room, self.user, text, client_id))
        except NotStored:
            raise protocol.FrameError("not_stored", "The message could not be stored; send it again.",
                                      frame_type="message", client_id=client_id) from None
        if is_new:  # encoded once here, not once per socket of the room
            await self.broadcast({"type": "chat.message", "text": json.dumps(frame)})
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
        if not self.sync_limiter.allow():
            limit, window = settings.CHAT_SYNC_RATE_LIMIT
            raise protocol.FrameError("rate_limited", f"At most {limit:g} syncs in {window:g} seconds.",
                                      frame_type="sync", retry_after=self.sync_limiter.retry_after())
        last_id = after
        for frame in await messages_after(self.room, after):
            await self.send_json(frame)
            last_id = frame["id"]
        await self.send_json({"type": "synced", "last_id": last_id})
    # --8<-- [end:sync]

    # --- events from the room's group ---------------------------------------------------------

    async def broadcast(self, event: dict) -> None:
        await self.channel_layer.group_send(self.room.group_name, event)

    async def broadcast_presence(self, room_list: RoomList) -> None:
        # The frame is encoded once here. A list in the event would be copied (in-memory layer) or packed
        # (Redis) once per socket of the room, on every join and leave: O(n) work n times in a storm.
        await self.broadcast({"type": "presence.update", "version": room_list.version,
                              "text": presence_frame(room_list.online)})

    async def chat_message(self, event):
        await self.send(text_data=event["text"])

    async def typing_notice(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "typing", "user": event["user"]})

    async def presence_update(self, event):
        # Broadcasts from several sockets may arrive out of order: a list older than the one shown waits.
        if event["version"] > self.known_version:
            await self.show_presence(event["version"], event["text"])

    async def show_presence(self, version: int, frame: str) -> None:
        """Send the room's list at `version`, unless this client already has the same list."""
        self.known_version = version
        if frame != self.presence_sent:
            self.presence_sent = frame
            await self.send(text_data=frame)

    async def session_ended(self, event):
        """The session logged out (rooms/sessions.py): this socket may no longer speak for its user."""
        await self.close(code=NOT_LOGGED_IN)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))


class NoSuchPath(AsyncWebsocketConsumer):
    """Every WebSocket path that is not a room's: accepted, then closed with 4404, like an unknown room."""

    async def connect(self):
        await self.accept()
        await self.close(code=NO_SUCH_ROOM)
