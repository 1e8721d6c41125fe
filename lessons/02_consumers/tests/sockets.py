"""Helpers that open sockets and read replies, failing with a message in the learner's words."""

import http.cookiejar
import json
import urllib.parse
import urllib.request

import pytest
from channels.testing import WebsocketCommunicator

# AllowedHostsOriginValidator refuses a socket without an allowed Origin, as a browser would send.
ORIGIN = (b"origin", b"http://127.0.0.1")


def name_of(app) -> str:
    """EchoConsumer for EchoConsumer.as_asgi(); "the application" for the whole ASGI stack."""
    return getattr(getattr(app, "consumer_class", None), "__name__", "the application")


def crash_of(communicator: WebsocketCommunicator) -> BaseException | None:
    future = communicator.future
    if future.done() and not future.cancelled():
        return future.exception()
    return None


def fail_if_crashed(communicator: WebsocketCommunicator, app_name: str) -> None:
    crash = crash_of(communicator)
    if crash is not None:
        pytest.fail(f"{app_name} raised {type(crash).__name__}: {crash}", pytrace=False)


async def open_socket(app, path: str, headers=(ORIGIN,)) -> WebsocketCommunicator:
    """A connected WebsocketCommunicator, or a test failure that says why the app did not accept."""
    communicator = WebsocketCommunicator(app, path, headers=list(headers))
    try:
        connected, code = await communicator.connect(timeout=1)
    except BaseException:  # the consumer crashed or never answered: say which
        connected, code = False, None
    if not connected:
        fail_if_crashed(communicator, name_of(app))
        answer = "closed the socket" if code is not None else "did not answer websocket.connect"
        pytest.fail(f"{name_of(app)} {answer} instead of accepting {path}: call accept() in connect().",
                    pytrace=False)
    return communicator


async def refused_code(app, path: str, headers=(ORIGIN,)) -> int:
    """Connect and expect a refusal; return the close code the app sent instead of accepting."""
    communicator = WebsocketCommunicator(app, path, headers=list(headers))
    try:
        connected, code = await communicator.connect(timeout=1)
    except BaseException:
        if crash_of(communicator) is None:
            raise
        connected, code = False, None
    fail_if_crashed(communicator, name_of(app))  # outside the except block: one clear message
    if connected:
        await communicator.disconnect()
        pytest.fail(f"The socket to {path} was accepted; it should have been refused before accept.",
                    pytrace=False)
    return code


async def next_event(communicator: WebsocketCommunicator, app_name: str, waiting_for: str) -> dict:
    try:
        return await communicator.receive_output(timeout=1)
    except BaseException as error:
        problem = error
    fail_if_crashed(communicator, app_name)  # outside the except block: one clear message
    if isinstance(problem, TimeoutError):
        pytest.fail(f"{app_name} sent nothing within 1 s; expected {waiting_for}.", pytrace=False)
    raise problem


async def next_json(communicator: WebsocketCommunicator, app_name: str, waiting_for: str) -> dict:
    event = await next_event(communicator, app_name, waiting_for)
    if event["type"] != "websocket.send" or event.get("text") is None:
        pytest.fail(f"Expected {waiting_for} as a text frame; {app_name} sent {event!r}.", pytrace=False)
    try:
        return json.loads(event["text"])
    except ValueError:
        pytest.fail(f"Expected {waiting_for} as JSON; {app_name} sent the text {event['text']!r}.", pytrace=False)


def log_in(http_url: str, username: str, password: str) -> str:
    """Log in through the server's own login page; return the Cookie header the browser would send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{http_url}/accounts/login/"
    opener.open(login_url, timeout=5).read()  # sets the csrftoken cookie
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
    opener.open(login_url, data=form.encode(), timeout=5).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, f"Logging in as {username} over HTTP gave no session cookie."
    return f"sessionid={cookies['sessionid']}"
