"""The chat consumer: one instance per socket, each with its own channel_name on the layer.

A room is a group. Joining is `group_add(group, self.channel_name)`; a message for the room is
one `group_send`, and the layer puts a copy on the channel of every member. Each member's
consumer then gets the event and Channels calls the method named by its `type`
("chat.message" -> `chat_message`), which sends it down that member's socket.
"""

import secrets

from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import members
from .protocol import FrameError, read_chat_message
from .rooms import group_name_for, room_name_problem

# Close codes 4000-4999 are for applications (RFC 6455, 7.4.2); 4400 reads as "bad request".
REFUSED_ROOM_NAME = 4400


class ChatConsumer(AsyncJsonWebsocketConsumer):
    # --8<-- [start:connect]
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.group_name = None  # stays None for a refused socket: there is no group to leave
        # BEGIN SOLUTION task=1
        problem = room_name_problem(self.room_name)
        if problem:
            await self.refuse(problem)
            return
        # END SOLUTION
        self.member_name = f"guest-{secrets.token_hex(2)}"
        self.group_name = group_name_for(self.room_name)
        # BEGIN SOLUTION task=2
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        # END SOLUTION
        members.join(self.room_name, self.member_name, self.channel_name)
        await self.send_json({"type": "welcome", "room": self.room_name, "name": self.member_name})

    async def refuse(self, detail: str):
        # Accept first, then close: a close before accept becomes a bare HTTP 403 and the client
        # never learns why. The error frame carries the reason to every client; the close reason
        # is dropped by daphne 4.2 (it sends the code only) but kept by other servers.
        await self.accept()
        await self.send_error("bad_room_name", detail)
        await self.close(code=REFUSED_ROOM_NAME, reason=detail)
    # --8<-- [end:connect]

    async def disconnect(self, code):
        if self.group_name is None:
            return
        members.leave(self.room_name, self.member_name)
        # BEGIN SOLUTION task=2
        await self.channel_layer.group_discard(self.group_name, self.channel_name)
        # END SOLUTION

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = read_chat_message(text_data)
        except FrameError as error:
            await self.send_error(error.code, error.detail)
            return
        if message.startswith("/whisper "):
            await self.whisper(message.removeprefix("/whisper "))
            return
        # BEGIN SOLUTION task=2
        await self.channel_layer.group_send(
            self.group_name, {"type": "chat.message", "from": self.member_name, "message": message}
        )
        # END SOLUTION

    # --- events from the layer: their "type" names the method ------------------------------------

    async def chat_message(self, event):
        # BEGIN SOLUTION task=2
        await self.send_json({"type": "chat.message", "from": event["from"], "message": event["message"]})
        # END SOLUTION

    async def chat_announcement(self, event):
        # BEGIN SOLUTION task=3
        await self.send_json({"type": "chat.announcement", "message": event["message"]})
        # END SOLUTION

    async def chat_whisper(self, event):
        await self.send_json({"type": "chat.whisper", "from": event["from"], "message": event["message"]})

    # --- one member, by channel_name -------------------------------------------------------------

    # --8<-- [start:whisper]
    async def whisper(self, rest: str):
        """`/whisper <name> <text>`: send to that member's channel only, not to the group."""
        # BEGIN SOLUTION task=4
        to_name, _, text = rest.partition(" ")
        if not text.strip():
            await self.send_error("bad_whisper", "Write: /whisper <name> <message>.")
            return
        channel_name = members.channel_of(self.room_name, to_name)
        if channel_name is None:
            await self.send_error("no_such_member", f"Nobody called {to_name!r} is in this room.")
            return
        try:
            await self.channel_layer.send(
                channel_name, {"type": "chat.whisper", "from": self.member_name, "message": text}
            )
        except ChannelFull:
            # send() says so when the member's queue is full; group_send would drop it silently.
            await self.send_error("not_delivered", f"{to_name} has too many messages waiting; try later.")
            return
        await self.send_json({"type": "whisper.sent", "to": to_name, "message": text})
        # END SOLUTION
    # --8<-- [end:whisper]

    async def send_error(self, code: str, detail: str):
        await self.send_json({"type": "error", "code": code, "detail": detail})
