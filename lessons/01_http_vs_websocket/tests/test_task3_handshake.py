"""Task 3: compute the Sec-WebSocket-Accept value (realtime/handshake.py)."""

import base64
import socket

import pytest

from realtime.handshake import accept_key, new_client_key, parse_response_head, upgrade_request

pytestmark = pytest.mark.task(3)


def test_accept_key_matches_the_example_in_rfc_6455():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", (
        "RFC 6455 section 1.3: the key dGhlIHNhbXBsZSBub25jZQ== must give s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")


def test_accept_key_is_a_base64_sha1_digest():
    value = accept_key(new_client_key())
    assert len(base64.b64decode(value)) == 20, "Sec-WebSocket-Accept is the base64 of a 20-byte SHA-1 digest."


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
    with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=5) as connection:
        connection.sendall(upgrade_request(f"127.0.0.1:{daphne_server.port}", "/ws/echo/", key,
                                           origin=daphne_server.origin))
        status, headers = parse_response_head(read_response_head(connection))
    assert status == 101, f"Expected 101 Switching Protocols from daphne, got {status}."
    assert headers.get("upgrade", "").lower() == "websocket"
    assert headers.get("sec-websocket-accept") == accept_key(key), (
        f"daphne answered Sec-WebSocket-Accept: {headers.get('sec-websocket-accept')}, "
        f"but accept_key({key!r}) gave {accept_key(key)!r}.")
