"""The WebSocket opening handshake (RFC 6455, section 4) done by hand.

The client sends an ordinary HTTP GET with `Upgrade: websocket` and a random
`Sec-WebSocket-Key`. A server that agrees answers `101 Switching Protocols` with a
`Sec-WebSocket-Accept` header computed from that key, which proves it understood the request.
From then on the same TCP connection carries WebSocket frames in both directions.
"""

import base64
import hashlib
import os

# Fixed by RFC 6455: every server appends this same GUID to the client's key.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def new_client_key() -> str:
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64-encoded."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_key(client_key: str) -> str:
    """The Sec-WebSocket-Accept value a server must send back for `client_key`."""
    # BEGIN SOLUTION task=3
    digest = hashlib.sha1((client_key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")
    # END SOLUTION


# --8<-- [start:upgrade_request]
def upgrade_request(host: str, path: str, client_key: str, origin: str) -> bytes:
    """The bytes of the HTTP request that asks a server to switch this connection to WebSocket."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {client_key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
# --8<-- [end:upgrade_request]


def parse_response_head(head: bytes) -> tuple[int, dict[str, str]]:
    """The status code and the headers (names lower-cased) of an HTTP response head."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers
