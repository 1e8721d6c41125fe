"""A JSON consumer that dispatches on the message's "type", and answers bad input with an error.

Every client message is a JSON object with a "type". Anything else gets a reply of the form
{"type": "error", "code": ..., "detail": ...}, and the socket stays open: one bad frame from a
client must not kill its connection (or leave a traceback in the server log).
"""

import math

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class InvalidMessage(ValueError):
    """A message of a known type with a missing or wrong field."""


# --8<-- [start:number_field]
def number_field(content: dict, name: str) -> int | float:
    value = content.get(name)
    # bool is a subclass of int in Python, and json.loads turns NaN and 1e999 into floats.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidMessage(f'"{name}" must be a number.')
    return value
# --8<-- [end:number_field]


class CommandConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    # --8<-- [start:handlers]
    async def ping(self, content: dict) -> None:
        await self.send_json({"type": "pong"})

    async def add(self, content: dict) -> None:
        total = number_field(content, "a") + number_field(content, "b")
        await self.send_json({"type": "sum", "value": total})

    def handlers(self) -> dict:
        """The message types this consumer understands, and the method that answers each."""
        return {"ping": self.ping, "add": self.add}

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})
    # --8<-- [end:handlers]

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The parent class would call json.loads and let a bad frame crash the consumer.
        # BEGIN SOLUTION task=3
        if text_data is None:
            await self.send_error("bad_frame", "Binary frames are not understood: send JSON as text.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:  # json.JSONDecodeError is a ValueError
            await self.send_error("bad_json", "That frame is not valid JSON.")
            return
        await self.receive_json(content)
        # END SOLUTION

    async def receive_json(self, content, **kwargs):
        # BEGIN SOLUTION task=3
        if not isinstance(content, dict):
            await self.send_error("bad_frame", 'A message is a JSON object, such as {"type": "ping"}.')
            return
        kind = content.get("type")
        if not isinstance(kind, str):
            await self.send_error("invalid", 'Every message needs a "type" string.')
            return
        handler = self.handlers().get(kind)
        if handler is None:
            known = ", ".join(sorted(self.handlers()))
            await self.send_error("unknown_type", f"Unknown type {kind[:40]!r}; known types: {known}.")
            return
        try:
            await handler(content)
        except InvalidMessage as problem:
            await self.send_error("invalid", str(problem))
        # END SOLUTION
