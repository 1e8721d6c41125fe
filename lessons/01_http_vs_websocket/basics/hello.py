"""The same tiny web app twice: once as a WSGI callable, once as an ASGI callable.

WSGI: a plain function, called once per request, that returns the whole body.
ASGI: a coroutine that receives events and sends events, so it can keep talking after replying.
"""

GREETING = "Hello! You asked for {path}\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8")]


# --8<-- [start:wsgi_hello]
def wsgi_hello(environ, start_response):
    body = GREETING.format(path=environ["PATH_INFO"]).encode("utf-8")
    start_response("200 OK", HEADERS + [("Content-Length", str(len(body)))])
    return [body]
# --8<-- [end:wsgi_hello]


async def asgi_hello(scope, receive, send):
    # BEGIN SOLUTION task=1
    if scope["type"] != "http":
        raise ValueError(f"asgi_hello speaks HTTP only, not {scope['type']!r}")
    # The request body may arrive in several http.request events: read them all before replying.
    more_body = True
    while more_body:
        event = await receive()
        more_body = event.get("more_body", False)
    body = GREETING.format(path=scope["path"]).encode("utf-8")
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS]
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": headers + [(b"content-length", str(len(body)).encode("latin-1"))],
    })
    await send({"type": "http.response.body", "body": body})
    # END SOLUTION
