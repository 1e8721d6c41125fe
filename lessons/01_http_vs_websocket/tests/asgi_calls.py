"""Calling an HTTP ASGI app by hand, the way a server does: a scope, a receive and a send.

(WebSocket apps are called through channels' WebsocketCommunicator: see sockets.py.)
"""

from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass
class Exchange:
    """The events an app received and the ones it sent, in order."""

    incoming: list[dict]
    log: list[tuple[str, dict]] = field(default_factory=list)

    async def receive(self) -> dict:
        if not self.incoming:
            raise AssertionError("The app called receive() again after reading the whole request.")
        event = self.incoming.pop(0)
        self.log.append(("received", event))
        return event

    async def send(self, event: dict) -> None:
        self.log.append(("sent", event))

    @property
    def sent(self) -> list[dict]:
        return [event for direction, event in self.log if direction == "sent"]


def http_scope(raw_path: str, method: str = "GET") -> dict:
    """The scope of a request for `raw_path` as it is on the wire ("/caf%C3%A9"); `path` is decoded ("/café")."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": unquote(raw_path), "raw_path": raw_path.encode("ascii"),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def call_http(app, raw_path: str, body_chunks: list[bytes] = (b"",), method: str = "GET") -> Exchange:
    chunks = list(body_chunks)
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    exchange = Exchange(incoming)
    await app(http_scope(raw_path, method), exchange.receive, exchange.send)
    return exchange
