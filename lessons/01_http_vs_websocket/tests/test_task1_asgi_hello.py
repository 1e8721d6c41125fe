"""Task 1: answer an HTTP request with a hand-written ASGI app (basics/hello.py)."""

import pytest

from basics.hello import GREETING, asgi_hello, wsgi_hello

from .asgi_calls import call_http

pytestmark = pytest.mark.task(1)


def wsgi_body(path: str) -> bytes:
    return b"".join(wsgi_hello({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, lambda status, headers: None))


def response_start(sent: list[dict]) -> dict:
    if not sent:
        pytest.fail("asgi_hello sent nothing: it must send http.response.start, then http.response.body.",
                    pytrace=False)
    start = sent[0]
    if start.get("type") != "http.response.start":
        pytest.fail(f"The first event sent must be http.response.start, not {start!r}.", pytrace=False)
    return start


def response_body(sent: list[dict]) -> bytes:
    bodies = [event for event in sent if event.get("type") == "http.response.body"]
    if not bodies:
        pytest.fail("asgi_hello sent http.response.start but no http.response.body: the body is a second "
                    "event, {'type': 'http.response.body', 'body': b'...'}.", pytrace=False)
    for event in bodies:
        if isinstance(event.get("body"), str):
            pytest.fail(f"The body of http.response.body must be bytes, not str ({event['body']!r}): "
                        "encode the text, text.encode('utf-8').", pytrace=False)
    return b"".join(event.get("body", b"") for event in bodies)


async def test_asgi_hello_starts_a_200_response():
    start = response_start((await call_http(asgi_hello, "/world")).sent)
    status = start.get("status")
    if isinstance(status, str):
        pytest.fail(f"The status is {status!r}, a WSGI status line: in ASGI it is the number alone, 200.",
                    pytrace=False)
    if status != 200:
        pytest.fail(f"Expected status 200, got {status!r}.", pytrace=False)


async def test_asgi_hello_sends_bytes_headers_with_lower_case_names():
    start = response_start((await call_http(asgi_hello, "/world")).sent)
    headers = list(start.get("headers", []))
    for name, value in headers:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            pytest.fail(f"The header {(name, value)!r} is made of str: ASGI headers are (bytes, bytes) pairs, "
                        "e.g. (b'content-type', b'text/plain; charset=utf-8').", pytrace=False)
        if name != name.lower():
            pytest.fail(f"The header name {name!r} has capitals: ASGI header names are lower-case, "
                        "e.g. b'content-type'.", pytrace=False)
    content_type = dict(headers).get(b"content-type", b"")
    if not content_type.startswith(b"text/plain"):
        pytest.fail(f"Expected a (b'content-type', b'text/plain; charset=utf-8') header; the headers were {headers}.",
                    pytrace=False)


async def test_asgi_hello_sends_the_same_text_as_the_wsgi_version():
    # On the wire the path is percent-encoded; scope["path"] holds it decoded, "/café/menu".
    for raw_path, expected in (("/world", wsgi_body("/world")),
                               ("/caf%C3%A9/menu", GREETING.format(path="/café/menu").encode("utf-8"))):
        body = response_body((await call_http(asgi_hello, raw_path)).sent)
        if body != expected:
            pytest.fail(f"For {raw_path} the body was {body!r}; expected {expected!r}.", pytrace=False)


async def test_a_content_length_header_counts_bytes_not_characters():
    sent = (await call_http(asgi_hello, "/caf%C3%A9/menu")).sent
    declared = dict(response_start(sent).get("headers", [])).get(b"content-length")
    body = response_body(sent)
    if declared is not None and int(declared) != len(body):
        pytest.fail(f"content-length says {int(declared)} but the body is {len(body)} bytes: the length of "
                    "the text counts characters ('é' is one), the header counts the encoded bytes ('é' is two).",
                    pytrace=False)


async def test_asgi_hello_reads_the_whole_request_body_before_answering():
    exchange = await call_http(asgi_hello, "/upload", body_chunks=[b"first part, ", b"second part"], method="POST")
    directions = [direction for direction, _ in exchange.log]
    first_send = directions.index("sent") if "sent" in directions else len(directions)
    read = directions[:first_send].count("received")
    if read != 2:
        pytest.fail(f"The request body came in two http.request events (more_body=True, then False), and "
                    f"asgi_hello answered after reading {read}. Keep calling receive() until more_body is False, "
                    "then answer.", pytrace=False)
