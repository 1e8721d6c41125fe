"""Calling an ASGI app by hand, the way a server does: a scope, a receive and a send."""

from dataclasses import dataclass, field


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


def http_scope(path: str, method: str = "GET") -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def call_http(app, path: str, body_chunks: list[bytes] = (b"",), method: str = "GET") -> Exchange:
    chunks = list(body_chunks)
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    exchange = Exchange(incoming)
    await app(http_scope(path, method), exchange.receive, exchange.send)
    return exchange


async def open_socket(app, path: str):
    """A WebsocketCommunicator connected to `app`, or a test failure that says why the app did not accept."""
    import pytest
    from channels.testing import WebsocketCommunicator

    communicator = WebsocketCommunicator(app, path)
    try:
        connected, _ = await communicator.connect(timeout=1)
    except BaseException:  # the app crashed or never answered: say which, in the learner's words
        connected = False
    if not connected:
        crash = communicator.future.exception() if communicator.future.done() else None
        if crash is not None:
            pytest.fail(f"{app.__name__} raised {type(crash).__name__}: {crash}", pytrace=False)
        pytest.fail(f"{app.__name__} did not answer websocket.connect with {{'type': 'websocket.accept'}} "
                    "within 1 s.", pytrace=False)
    return communicator
