"""Talking to a WebSocket ASGI app in the test process, as daphne would, with verdicts in the learner's words.

channels' WebsocketCommunicator runs the app as an asyncio task and swaps events with it through two
queues. Its own waits cancel the app when they give up, and then all a test could say is
"CancelledError". These helpers watch the app and its queues instead, so that a failure says what the
app did: it crashed, it returned, it waits for another event, or it is stuck inside a call.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import CodeType

import pytest
from channels.testing import WebsocketCommunicator

from coursekit.timing import scaled

ACCEPT = {"type": "websocket.accept"}
POLL = 0.01  # how often the helpers look at the app; a look costs nothing


def name_of(app) -> str:
    return getattr(app, "__name__", "the app")


def crash_of(communicator: WebsocketCommunicator) -> BaseException | None:
    future = communicator.future
    if future.done() and not future.cancelled():
        return future.exception()
    return None


def fail_if_crashed(communicator: WebsocketCommunicator, app_name: str, when: str) -> None:
    crash = crash_of(communicator)
    if crash is not None:
        pytest.fail(f"{app_name} raised {type(crash).__name__}: {crash} {when}".rstrip(".") + ".", pytrace=False)


def suspended_in(communicator: WebsocketCommunicator) -> list[CodeType]:
    """The code of the coroutines the app is suspended in, outermost first: clock_app, send_ticks, sleep."""
    codes, coroutine = [], communicator.future.get_coro()
    while hasattr(coroutine, "cr_code"):
        codes.append(coroutine.cr_code)
        coroutine = coroutine.cr_await
    return codes


def names(codes: list[CodeType]) -> list[str]:
    return [code.co_qualname for code in codes]


def is_asyncio(code: CodeType) -> bool:
    return Path(code.co_filename).parent == Path(asyncio.__file__).parent


def waits_for_an_event_nobody_sends(communicator: WebsocketCommunicator) -> bool:
    """The app is in receive(), and every event we sent has been read: it will wait forever."""
    return communicator.input_queue.empty() and names(suspended_in(communicator))[-1:] == ["Queue.get"]


def stop(communicator: WebsocketCommunicator) -> None:
    """Cancel the app's task, so that a failed test leaves nothing running behind it."""
    communicator.stop(exceptions=False)


async def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """True as soon as `condition()` holds; False when `seconds` pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL)
    return True


async def open_socket(app, path: str) -> WebsocketCommunicator:
    """A WebsocketCommunicator whose app accepted the socket, or a failure that says what the app did."""
    app_name, seconds = name_of(app), scaled(5)
    communicator = WebsocketCommunicator(app, path)
    await communicator.send_input({"type": "websocket.connect"})
    answered = await wait_until(lambda: not communicator.output_queue.empty() or communicator.future.done()
                                or waits_for_an_event_nobody_sends(communicator), seconds)
    if not communicator.output_queue.empty():
        first = communicator.output_queue.get_nowait()
        if first == ACCEPT:
            return communicator
        stop(communicator)
        if first.get("type") == "websocket.close":
            pytest.fail(f"{app_name} closed the socket ({first!r}) instead of accepting it: answer "
                        "websocket.connect with {'type': 'websocket.accept'}.", pytrace=False)
        pytest.fail(f"{app_name} did not answer websocket.connect with {{'type': 'websocket.accept'}}: "
                    f"the first event it sent was {first!r}. Accept the socket before sending on it.",
                    pytrace=False)
    fail_if_crashed(communicator, app_name, "while answering websocket.connect")
    stop(communicator)
    if communicator.future.done():
        what = "it returned without sending anything"
    elif answered:
        what = "it read that event and went on waiting for the next one"
    else:
        what = f"within {seconds:.0f} s"
    pytest.fail(f"{app_name} did not answer websocket.connect with {{'type': 'websocket.accept'}}: {what}.",
                pytrace=False)


async def next_event(communicator: WebsocketCommunicator, app_name: str, expected: str,
                     if_returned: str = "") -> dict:
    """The next event the app sends; a failure naming `expected` when it crashes, returns or stays silent."""
    seconds = scaled(5)
    await wait_until(lambda: not communicator.output_queue.empty() or communicator.future.done(), seconds)
    if not communicator.output_queue.empty():
        return communicator.output_queue.get_nowait()
    fail_if_crashed(communicator, app_name, f"instead of sending {expected}")
    if communicator.future.done():
        pytest.fail(f"{app_name} returned instead of sending {expected}. {if_returned}".strip(), pytrace=False)
    stop(communicator)
    pytest.fail(f"{app_name} sent nothing within {seconds:.0f} s; expected {expected}.", pytrace=False)


async def leave(communicator: WebsocketCommunicator) -> None:
    """The client goes away; the app gets a short while to finish, then it is cancelled. Checks nothing."""
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await wait_until(lambda: communicator.future.done() or waits_for_an_event_nobody_sends(communicator),
                     scaled(0.5))
    stop(communicator)


async def leave_and_expect_the_app_to_return(communicator: WebsocketCommunicator, app_name: str) -> None:
    """The client goes away: the app must read websocket.disconnect and return, or the test fails saying
    where the app is stuck."""
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    seconds = scaled(5)
    loop = asyncio.get_running_loop()
    busy_since = None

    def busy_elsewhere() -> bool:
        """websocket.disconnect is unread, and the app is inside a call of its own, not in receive()."""
        calls = names(suspended_in(communicator))
        return not communicator.input_queue.empty() and len(calls) > 1 and calls[-1] != "Queue.get"

    def returned_or_stuck() -> bool:
        nonlocal busy_since
        if communicator.future.done() or waits_for_an_event_nobody_sends(communicator):
            return True
        busy_since = (busy_since or loop.time()) if busy_elsewhere() else None
        return busy_since is not None and loop.time() - busy_since > scaled(0.5)

    await wait_until(returned_or_stuck, seconds)
    fail_if_crashed(communicator, app_name, "after websocket.disconnect")
    if communicator.future.done():
        return
    where = suspended_in(communicator)
    stop(communicator)
    if names(where)[-1:] == ["Queue.get"]:
        pytest.fail(f"{app_name} read websocket.disconnect, then waited for another event, which never comes: "
                    "return from the app when websocket.disconnect arrives.", pytrace=False)
    if busy_since is not None and len(where) > 1:
        call = where[1]
        if is_asyncio(call):  # a loop in the app itself, e.g. `while True: ... await asyncio.sleep(...)`
            inside = (f"it is still in its own loop (now in `await asyncio.{call.co_name}(...)`). Move that loop "
                      "into a function and run it as a task, asyncio.create_task(...),")
        else:
            inside = (f"it is still inside `await {call.co_qualname}(...)`, which does not return. Run it as a "
                      f"task instead, asyncio.create_task({call.co_qualname}(...)),")
        pytest.fail(f"{app_name} never read websocket.disconnect: {inside} and keep reading receive() until "
                    "websocket.disconnect arrives.", pytrace=False)
    pytest.fail(f"{app_name} was still running {seconds:.0f} s after websocket.disconnect (in "
                f"{' -> '.join(names(where))}): return from the app when websocket.disconnect arrives.",
                pytrace=False)
