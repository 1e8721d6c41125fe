"""Communicator helpers: open a room socket as a user, read frames with clear failures.

Every wait is a deadline scaled by COURSE_TIME_SCALE: it ends as soon as the frame arrives.
"""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat_site.asgi import application
from coursekit.timing import scaled
from rooms.presence import get_presence

from .conftest import cookie_for

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
EVENT_WAIT = scaled(5)  # for a frame that should come
QUIET_WAIT = scaled(0.3)  # for "nothing else comes"


class RoomSocket(WebsocketCommunicator):
    """A communicator whose waits are deadlines, and whose failures say what was expected."""

    async def connect(self, timeout=None):
        timeout = EVENT_WAIT if timeout is None else timeout
        try:
            return await super().connect(timeout)
        except TimeoutError:
            problem = f"was neither accepted nor closed within {timeout:g} s"
        except Exception as error:  # the consumer crashed: its exception, without the test's traceback
            problem = f"crashed the consumer: {type(error).__name__}: {error}"
        pytest.fail(f"Opening the socket to {self.scope['path']} {problem}", pytrace=False)

    async def disconnect(self, code=1000, timeout=None):
        """Close from the client side and wait until the consumer's disconnect() has finished."""
        timeout = EVENT_WAIT if timeout is None else timeout
        try:
            return await super().disconnect(code, timeout)
        except TimeoutError:
            pass
        pytest.fail(f"The consumer was still running {timeout:g} s after its client disconnected: "
                    "disconnect() must return.", pytrace=False)


async def communicator(slug: str, user=None, origin=ORIGIN) -> RoomSocket:
    headers = [origin] if origin else []
    if user is not None:
        headers.append(await sync_to_async(cookie_for)(user))
    return RoomSocket(application, f"/ws/rooms/{slug}/", headers=headers)


async def join(slug: str, user) -> RoomSocket:
    """A socket in room `slug` as `user`, its welcome frame already read (on `.welcome`)."""
    socket = await communicator(slug, user)
    connected, code = await socket.connect()
    assert connected, f"the socket to {slug} as {user} was refused (code {code})"
    socket.welcome = await frame(socket, "the welcome frame")
    assert socket.welcome["type"] == "welcome", f"expected the welcome frame first, got {socket.welcome}"
    return socket


async def frame(socket: RoomSocket, what: str, timeout: float = EVENT_WAIT) -> dict:
    """The next frame, whatever its type; `what` names it in a failure."""
    return await frame_of_types(socket, None, timeout, what)


async def frame_of_type(socket, frame_type: str, timeout: float = EVENT_WAIT, what: str = "") -> dict:
    """The next frame of `frame_type`, skipping others (presence updates arrive at their own pace)."""
    return await frame_of_types(socket, {frame_type}, timeout, what)


async def frame_of_types(socket, frame_types: set[str] | None, timeout: float = EVENT_WAIT, what: str = "") -> dict:
    """The next frame whose type is one of `frame_types` (any type: None), skipping others."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    what = what or "a " + " or ".join(repr(t) for t in sorted(frame_types)) + " frame"
    while True:
        got = await next_frame(socket, max(0.01, deadline - loop.time()))
        if isinstance(got, str):
            pytest.fail(f"Expected {what} within {timeout:g} s, but {got}.", pytrace=False)
        if frame_types is None or got["type"] in frame_types:
            return got


async def next_frame(socket: RoomSocket, timeout: float) -> dict | str:
    """The next frame the consumer sends, or why none came within `timeout` seconds."""
    try:
        output = await socket.receive_output(timeout=timeout)
    except TimeoutError:
        return "nothing arrived"
    except Exception as error:  # the consumer crashed: its exception, without the test's traceback
        return f"the consumer crashed: {type(error).__name__}: {error}"
    if output["type"] == "websocket.send":
        return json.loads(output["text"])
    return f"the server closed the socket (code {output.get('code')})"


async def online(room: str) -> list[str]:
    """Who the presence store lists in `room` now."""
    return (await get_presence().online(room)).online


async def presence_becomes(socket, online: list[str], timeout: float = EVENT_WAIT, why: str = "") -> None:
    """Read presence frames until one lists exactly `online`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = []
    while seen[-1:] != [online]:
        got = await next_frame(socket, max(0.01, deadline - loop.time()))
        if isinstance(got, str):
            pytest.fail(f"The presence list never became {online} within {timeout:g} s ({got}); it was "
                        f"{seen or 'never sent'}." + (f" {why}" if why else ""), pytrace=False)
        if got["type"] == "presence":
            seen.append(got["online"])


def brief(value, limit: int = 160) -> str:
    """A frame (or any value) as short text for a failure message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


async def nothing_more(socket, of_type: str | None = None, wait: float = QUIET_WAIT, why: str = "") -> None:
    """No frame (of `of_type`, when given) arrives within `wait` seconds."""
    # receive_nothing, not a receive that times out: a timed-out receive cancels the application.
    while not await socket.receive_nothing(timeout=wait):
        got = await socket.receive_json_from()
        if of_type is None or got["type"] == of_type:
            pytest.fail(f"Expected no more {of_type or ''} frames, got {brief(got)}." + (f" {why}" if why else ""),
                        pytrace=False)


async def send(socket, payload) -> None:
    await socket.send_to(text_data=json.dumps(payload))


async def close_code(slug: str, user=None, origin=ORIGIN, who: str = "The socket") -> int:
    """The close code a refused socket gets: it must be accepted first, then closed with the code.
    `who` names the socket in failures ("bob, not a member of the private room,")."""
    socket = await communicator(slug, user, origin)
    connected, code = await socket.connect()
    if not connected:
        pytest.fail(f"{who} was refused during the handshake (closed with {code} before accept()): a browser "
                    "then only sees code 1006 and cannot tell why. Accept, then close with the 44xx code.",
                    pytrace=False)
    try:
        output = await socket.receive_output(timeout=EVENT_WAIT)
    except TimeoutError:  # the communicator has stopped the consumer
        output = {"type": f"nothing for {EVENT_WAIT:g} s"}
    else:
        await socket.disconnect()
    if output["type"] != "websocket.close":
        pytest.fail(f"{who} was let in (it got {brief(output.get('text', output['type']))}); expected it to be "
                    "accepted, then closed with a 44xx code.", pytrace=False)
    return output["code"]


async def refused_in_handshake(slug: str, user=None, origin=ORIGIN) -> bool:
    """Whether the socket is refused before it is accepted (what the origin check does)."""
    socket = await communicator(slug, user, origin)
    connected, _ = await socket.connect()
    if connected:
        await socket.disconnect()
    return not connected
