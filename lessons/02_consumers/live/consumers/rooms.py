"""A consumer that reads its scope: the route's URL kwargs and the user."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send_json(self.welcome())

    def welcome(self) -> dict:
        """{"type": "welcome", "room": ..., "seat": ... or None, "user": a username or None}."""
        # BEGIN SOLUTION task=4
        kwargs = self.scope["url_route"]["kwargs"]
        user = self.scope["user"]
        return {
            "type": "welcome",
            "room": kwargs["room"],
            "seat": kwargs.get("seat"),
            "user": user.get_username() if user.is_authenticated else None,
        }
        # END SOLUTION
