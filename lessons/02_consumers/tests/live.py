"""Talk to the real daphne server as a browser would: log in over HTTP, open sockets, read frames.

A fresh server loads Django on its first request and a busy machine is slow, so the handshake and
the login get long deadlines; they end as soon as the server answers.
"""

import asyncio
import contextlib
import http.cookiejar
import json
import urllib.parse
import urllib.request

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from coursekit.timing import scaled

from .sockets import ARRIVE, fail

HTTP = scaled(30)  # a login, or a WebSocket handshake: an HTTP request to a server that may be busy
SAME_ORIGIN = object()  # the Origin a page served by the server itself sends


def log_in(http_url: str, username: str, password: str) -> str:
    """Log in through the server's own login page; return the Cookie header the browser would send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{http_url}/accounts/login/"
    try:
        opener.open(login_url, timeout=HTTP).read()  # sets the csrftoken cookie
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
        opener.open(login_url, data=form.encode(), timeout=HTTP).read()
        problem = None
    except (OSError, StopIteration) as error:  # URLError and timeouts are OSErrors
        problem = f"Logging in as {username} at {login_url} failed within {HTTP:.0f} s: {type(error).__name__}: {error}"
    if problem:
        fail(problem)
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        fail(f"Logging in as {username} over HTTP gave no session cookie")
    return f"sessionid={cookies['sessionid']}"


def options(server, origin, cookie: str | None) -> dict:
    return {"origin": server.origin if origin is SAME_ORIGIN else origin,
            "additional_headers": {"Cookie": cookie} if cookie else None,
            "open_timeout": HTTP}


@contextlib.asynccontextmanager
async def real_socket(server, path: str, cookie: str | None = None):
    """An open WebSocket to the real server, sent with the page's Origin (and a session cookie)."""
    try:
        socket = await connect(f"{server.ws_url}{path}", **options(server, SAME_ORIGIN, cookie))
        problem = None
    except InvalidStatus as refused:
        problem = f"The real server refused {path} with HTTP {refused.response.status_code}; expected it to open."
    except (OSError, TimeoutError) as error:
        problem = f"The real server did not open {path} within {HTTP:.0f} s: {type(error).__name__}: {error}"
    if problem:
        fail(problem, f"The server's last lines:\n{server.output()[-1500:]}")
    async with socket:
        yield socket


async def receive_real(socket, waiting_for: str) -> str | bytes:
    """The next frame from the real server, or a failure saying what came instead."""
    try:
        return await asyncio.wait_for(socket.recv(), ARRIVE)
    except TimeoutError:
        problem = f"The real server sent nothing within {ARRIVE:.0f} s; expected {waiting_for}."
    except ConnectionClosed:
        problem = f"The real server closed the socket (code {socket.close_code}); expected {waiting_for}."
    fail(problem)


async def receive_real_json(socket, waiting_for: str):
    frame = await receive_real(socket, waiting_for)
    try:
        return json.loads(frame)
    except ValueError:
        problem = f"Expected {waiting_for} as JSON; the real server sent {frame!r}."
    fail(problem)


async def closed_code(socket, after: str) -> int:
    """Wait for the server to close the socket; its close code."""
    try:
        frame = await asyncio.wait_for(socket.recv(), ARRIVE)
        problem = f"After {after} the real server sent {frame!r}; expected it to close the socket."
    except TimeoutError:
        problem = f"After {after} the real server kept the socket open for {ARRIVE:.0f} s; expected a close."
    except ConnectionClosed:
        return socket.close_code
    fail(problem)


async def refused_status(server, path: str, origin=SAME_ORIGIN, cookie: str | None = None, hint: str = "") -> int:
    """Open a socket and expect the handshake to be refused; the HTTP status the server answered."""
    try:
        async with connect(f"{server.ws_url}{path}", **options(server, origin, cookie)):
            problem = f"The real server opened {path}; it should have refused the handshake."
    except InvalidStatus as refused:
        return refused.response.status_code
    except (OSError, TimeoutError) as error:
        problem = f"The real server did not answer the handshake for {path} within {HTTP:.0f} s: {error}"
    fail(problem, hint)
