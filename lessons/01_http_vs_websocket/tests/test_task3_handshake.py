"""Task 3: compute the Sec-WebSocket-Accept value (realtime/handshake.py)."""

import base64
import hashlib
import socket

import pytest

from coursekit.timing import scaled
from realtime.handshake import WEBSOCKET_GUID, accept_key, new_client_key, parse_response_head, upgrade_request

pytestmark = pytest.mark.task(3)

RFC_KEY, RFC_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# The wrong turns people take on the way to RFC 6455's recipe, and what to tell them.
def known_wrong_turns(key: str) -> list[tuple[object, str]]:
    keyed = (key + WEBSOCKET_GUID).encode("ascii")
    return [
        (b64(hashlib.sha1(keyed).hexdigest().encode("ascii")),
         "it base64-encodes the hex string of the digest (hexdigest()); base64-encode the raw 20 bytes of "
         ".digest() instead"),
        (hashlib.sha1(keyed).hexdigest(),
         "it returns the SHA-1 as a hex string (hexdigest()); the header carries the raw 20-byte digest, "
         "base64-encoded"),
        (b64(hashlib.sha1(key.encode("ascii")).digest()),
         "it hashes the key alone: append the GUID (WEBSOCKET_GUID) to the key, then hash"),
        (b64(hashlib.sha1((WEBSOCKET_GUID + key).encode("ascii")).digest()),
         "it hashes the GUID followed by the key: the key comes first, then WEBSOCKET_GUID"),
        (b64(hashlib.sha1(base64.b64decode(key) + WEBSOCKET_GUID.encode("ascii")).digest()),
         "it base64-decoded the key first: hash the key as it came, as text, followed by the GUID"),
        (b64(hashlib.sha256(keyed).digest()),
         "it uses SHA-256: RFC 6455 asks for SHA-1 (hashlib.sha1)"),
        (base64.b64encode(hashlib.sha1(keyed).digest()),
         "it returns bytes (b'...'), and a header value here is a str: decode the base64 result, .decode('ascii')"),
    ]


def test_accept_key_matches_the_example_in_rfc_6455():
    value = accept_key(RFC_KEY)
    if value == RFC_ACCEPT:
        return
    why = next((advice for wrong, advice in known_wrong_turns(RFC_KEY) if value == wrong), None)
    pytest.fail(f"RFC 6455, section 1.3: the key {RFC_KEY} must give {RFC_ACCEPT}; accept_key returned {value!r}"
                + (f": {why}." if why else "."), pytrace=False)


def test_accept_key_is_a_base64_sha1_digest():
    value = accept_key(new_client_key())
    if not isinstance(value, str):
        pytest.fail(f"accept_key must return a str; it returned {type(value).__name__}.", pytrace=False)
    size = len(base64.b64decode(value))
    if size != 20:
        pytest.fail(f"Sec-WebSocket-Accept is the base64 of a 20-byte SHA-1 digest; {value!r} decodes to {size} "
                    "bytes.", pytrace=False)


def test_different_keys_give_different_accept_values():
    assert accept_key(new_client_key()) != accept_key(new_client_key())


def read_response_head(connection: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n\r\n")[0]


def test_a_real_server_switches_protocols_with_your_accept_value(daphne_server):
    key = new_client_key()
    try:
        with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=scaled(20)) as connection:
            connection.sendall(upgrade_request(f"127.0.0.1:{daphne_server.port}", "/ws/echo/", key,
                                               origin=daphne_server.origin))
            head = read_response_head(connection)
    except TimeoutError:
        head = None
    if not head:
        what = ("closed the connection without answering the upgrade request" if head == b""
                else f"did not answer the upgrade request within {scaled(20):.0f} s")
        pytest.fail(f"daphne {what} to /ws/echo/. (It switches protocols only once "
                    "echo_app accepts the socket: task 2.)", pytrace=False)
    status, headers = parse_response_head(head)
    assert status == 101, (f"Expected 101 Switching Protocols from daphne, got {status}. "
                           "(daphne switches only once echo_app accepts the socket: task 2.)")
    assert headers.get("upgrade", "").lower() == "websocket"
    if headers.get("sec-websocket-accept") != accept_key(key):
        pytest.fail(f"daphne answered Sec-WebSocket-Accept: {headers.get('sec-websocket-accept')}, "
                    f"but accept_key({key!r}) gave {accept_key(key)!r}.", pytrace=False)
