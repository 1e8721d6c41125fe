"""Task 1: answer an HTTP request with a hand-written ASGI app (basics/hello.py)."""

import pytest

from basics.hello import asgi_hello, wsgi_hello

from .asgi_calls import call_http

pytestmark = pytest.mark.task(1)


def call_wsgi(path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    seen = {}

    def start_response(status, headers):
        seen.update(status=status, headers=headers)

    body = b"".join(wsgi_hello({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response))
    return seen["status"], seen["headers"], body


async def test_asgi_hello_starts_a_200_text_response():
    exchange = await call_http(asgi_hello, "/world")
    assert exchange.sent, "asgi_hello sent nothing: it must send http.response.start, then http.response.body."
    start = exchange.sent[0]
    assert start["type"] == "http.response.start", (
        f"The first event sent must be http.response.start, not {start['type']!r}.")
    assert start["status"] == 200, f"Expected status 200, got {start.get('status')!r}."
    headers = dict(start.get("headers", []))
    assert headers.get(b"content-type", b"").startswith(b"text/plain"), (
        f"Expected a (b'content-type', b'text/plain; charset=utf-8') header; headers were {start.get('headers')}."
        " ASGI headers are (bytes, bytes) pairs with lower-case names.")


async def test_asgi_hello_sends_the_same_body_as_the_wsgi_version():
    for path in ("/world", "/caf%C3%A9/menu"):
        exchange = await call_http(asgi_hello, path)
        bodies = [event for event in exchange.sent if event["type"] == "http.response.body"]
        assert bodies, "No http.response.body event was sent after the response start."
        body = b"".join(event.get("body", b"") for event in bodies)
        assert body == call_wsgi(path)[2], f"For {path} the ASGI body was {body!r}, the WSGI one {call_wsgi(path)[2]!r}."


async def test_asgi_hello_reads_the_whole_request_body_before_answering():
    exchange = await call_http(asgi_hello, "/upload", body_chunks=[b"first part, ", b"second part"], method="POST")
    directions = [direction for direction, _ in exchange.log]
    first_send = directions.index("sent")
    assert directions[:first_send].count("received") == 2, (
        "The request body came in two http.request events (more_body=True, then False). "
        "Keep calling receive() until more_body is False, then answer.")
