"""Accepting, rejecting and closing: who may open a socket, and what a refused client sees."""

from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Close codes 4000-4999 are for applications (RFC 6455, section 7.4.2). 4401 echoes HTTP's 401.
NOT_LOGGED_IN = 4401


class MembersConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args, staff_only: bool = False, **kwargs):
        # routing.py builds one route with MembersConsumer.as_asgi(staff_only=True):
        # as_asgi() passes its keyword arguments here, to every consumer it creates.
        super().__init__(*args, **kwargs)
        self.staff_only = staff_only

    async def connect(self):
        user = self.scope["user"]
        # BEGIN SOLUTION task=5
        if self.staff_only and not user.is_staff:
            # Refused during the handshake: the client gets HTTP 403 and never an open socket.
            raise DenyConnection
        if not user.is_authenticated:
            # Accept first, then close: only an open socket can carry a close code and a message.
            await self.accept()
            await self.send_json({"type": "error", "code": "not_logged_in", "detail": "Log in to join."})
            await self.close(code=NOT_LOGGED_IN, reason="Log in to join.")
            return
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username(), "staff": user.is_staff})
        # END SOLUTION
