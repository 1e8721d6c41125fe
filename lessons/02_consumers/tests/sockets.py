"""Drive a consumer with a WebsocketCommunicator, failing with a message in the learner's words.

Every wait here is a deadline on the event awaited (scaled by COURSE_TIME_SCALE), and most mistakes
end it early: the app crashed, it dropped a coroutine without awaiting it, or it handled everything
it was sent and sits waiting for the client, having sent nothing.
"""

import asyncio
import json
import warnings

import pytest
from channels.testing import WebsocketCommunicator

from coursekit.timing import scaled

# AllowedHostsOriginValidator refuses a socket without an allowed Origin, as a browser would send.
ORIGIN = (b"origin", b"http://127.0.0.1")
ARRIVE = scaled(5)  # for something that should happen: ends as soon as it does
POLL = 0.01

UNAWAITED = "was never awaited"


def name_of(app) -> str:
    """EchoConsumer for EchoConsumer.as_asgi(); "the application" for the whole ASGI stack."""
    return getattr(getattr(app, "consumer_class", None), "__name__", "the application")


def waiting_for_the_client(communicator: WebsocketCommunicator) -> bool:
    """The app has taken every event sent to it and awaits the next one. (asyncio.Queue keeps the
    readers it has not served yet in `_getters`: a reader there is the app, blocked in receive().)"""
    queue = communicator.input_queue
    return queue.empty() and any(not getter.done() for getter in queue._getters)


def finished(communicator: WebsocketCommunicator) -> bool:
    return communicator.future.done()


# Causes behind the exceptions a learner's app typically raises here, in the learner's words.
CAUSES = [
    (KeyError, "'user'", 'The scope has no "user": the AuthMiddlewareStack in consumersite/asgi.py puts it '
                         "there, around the URLRouter."),
    (TypeError, "can't be used in 'await' expression",
     "A route in live/routing.py points at a consumer class itself: give URLRouter "
     "SomeConsumer.as_asgi(), the ASGI app that builds one consumer per connection."),
    (ValueError, "No route found", "No route in live/routing.py matches this path."),
]


def sentence(*parts: str) -> str:
    """The non-empty parts, joined, each ending with a full stop, the first word capitalized."""
    text = " ".join(part if part.endswith((".", "?", "!")) else part + "." for part in parts if part)
    return text[:1].upper() + text[1:]


def fail(*parts: str) -> None:
    pytest.fail(sentence(*parts), pytrace=False)


def crash_message(crash: BaseException, app_name: str, hint: str) -> str:
    causes = [cause for kind, text, cause in CAUSES if isinstance(crash, kind) and text in str(crash)]
    return sentence(f"{app_name} raised {type(crash).__name__}: {crash}", *causes, hint)


def unawaited_message(app_name: str, warning: str, hint: str) -> str:
    return sentence(
        f"{app_name} created a coroutine and never awaited it ({warning})",
        "In an async consumer, `await` every call to Channels: await self.accept(), await self.send(...), "
        "await self.close()",
        "In a sync WebsocketConsumer, write plain `def` methods, never `async def`", hint)


class Watch:
    """Fails the test, naming the cause, as soon as the app crashes or drops an unawaited coroutine."""

    def __init__(self, communicator: WebsocketCommunicator, app_name: str, hint: str = ""):
        self.communicator, self.app_name, self.hint = communicator, app_name, hint
        self.caught: list[warnings.WarningMessage] = []
        self._catching = warnings.catch_warnings(record=True)

    def __enter__(self) -> "Watch":
        self.caught = self._catching.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc_info) -> None:
        self._catching.__exit__(*exc_info)
        for caught in self.caught:  # pass on every other warning, as if nobody had looked
            if UNAWAITED not in str(caught.message):
                warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)

    def check(self) -> None:
        unawaited = next((str(caught.message) for caught in self.caught if UNAWAITED in str(caught.message)), None)
        if unawaited is not None:
            self.fail(unawaited_message(self.app_name, unawaited, self.hint))
        future = self.communicator.future
        if future.done() and not future.cancelled() and future.exception() is not None:
            self.fail(crash_message(future.exception(), self.app_name, self.hint))

    def fail(self, message: str) -> None:
        self.communicator.future.cancel()
        fail(message)

    async def until(self, condition, timeout: float = ARRIVE) -> bool:
        """Wait for `condition()`, checking at every step for a crash or a coroutine left unawaited."""
        return await until(condition, timeout, between=self.check)


async def until(condition, timeout: float = ARRIVE, between=lambda: None) -> bool:
    """Wait for `condition()`: True as soon as it holds, False at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        between()
        if condition():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL)


async def next_event(communicator: WebsocketCommunicator, app_name: str, waiting_for: str, *,
                     hint: str = "", waits_on_a_task: bool = False) -> dict:
    """The next event the app sends to the client. Unless `waits_on_a_task` (a ticker sends while the
    consumer itself waits for the client), an app that waits for the client has sent all it will."""
    output = communicator.output_queue

    def done_or_idle() -> bool:
        return not output.empty() or finished(communicator) or (
            not waits_on_a_task and waiting_for_the_client(communicator))

    with Watch(communicator, app_name, hint) as watch:
        arrived = await watch.until(done_or_idle)
        watch.check()
    if not output.empty():
        return output.get_nowait()
    if not arrived:
        problem = f"{app_name} sent nothing within {ARRIVE:.0f} s"
    elif finished(communicator):
        problem = f"{app_name} stopped without sending anything"
    else:
        problem = f"{app_name} sent nothing and waits for the client's next message"
    fail(f"{problem}; expected {waiting_for}", hint)


async def open_socket(app, path: str, headers=(ORIGIN,), hint: str = "") -> WebsocketCommunicator:
    """A connected WebsocketCommunicator, or a test failure that says why the app did not accept."""
    app_name = name_of(app)
    communicator = WebsocketCommunicator(app, path, headers=list(headers))
    await communicator.send_input({"type": "websocket.connect"})
    event = await next_event(communicator, app_name, f"the socket to {path} to be accepted (accept() in connect())")
    if event["type"] == "websocket.accept":
        return communicator
    communicator.future.cancel()
    if event["type"] == "websocket.close":
        problem = f"{app_name} refused the socket to {path} (a close before accept) instead of accepting it"
    else:
        problem = f"{app_name} sent a frame before accepting the socket to {path}: {event!r}. Call accept() first."
    fail(problem, hint)


async def refused_code(app, path: str, headers=(ORIGIN,), hint: str = "") -> int | None:
    """Connect and expect a refusal before accept; return the close code the app sent instead."""
    communicator = WebsocketCommunicator(app, path, headers=list(headers))
    await communicator.send_input({"type": "websocket.connect"})
    event = await next_event(communicator, name_of(app), f"a refusal of {path} before accept()", hint=hint)
    communicator.future.cancel()
    if event["type"] != "websocket.close":
        fail(f"The socket to {path} was accepted; it should have been refused before accept", hint)
    return event.get("code")


async def next_json(communicator: WebsocketCommunicator, app_name: str, waiting_for: str, *,
                    hint: str = "", waits_on_a_task: bool = False) -> dict:
    event = await next_event(communicator, app_name, waiting_for, hint=hint, waits_on_a_task=waits_on_a_task)
    if event["type"] == "websocket.close":
        fail(f"{app_name} closed the socket (code {event.get('code')}); expected {waiting_for}", hint)
    if event["type"] != "websocket.send" or event.get("text") is None:
        fail(f"Expected {waiting_for} as a text frame; {app_name} sent {event!r}")
    try:
        return json.loads(event["text"])
    except ValueError:
        problem = f"Expected {waiting_for} as JSON; {app_name} sent the text {event['text']!r}."
    fail(problem)


async def nothing_more(communicator: WebsocketCommunicator, app_name: str, after: str, hint: str = "") -> None:
    """Once the app waits for the client again (or has stopped), it must have sent nothing after `after`."""
    with Watch(communicator, app_name, hint) as watch:
        await watch.until(lambda: finished(communicator) or waiting_for_the_client(communicator))
    if not communicator.output_queue.empty():
        extra = communicator.output_queue.get_nowait()
        communicator.future.cancel()
        fail(f"{app_name} sent {extra!r} after {after}", hint)


async def leave(communicator: WebsocketCommunicator, app_name: str) -> None:
    """The client leaves; the consumer must then stop (its disconnect() runs and returns)."""
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    with Watch(communicator, app_name) as watch:
        stopped = await watch.until(lambda: finished(communicator))
    if not stopped:
        communicator.future.cancel()
        fail(f"{app_name} was still running {ARRIVE:.0f} s after the client left: connect() or disconnect() "
             "is still awaiting something", "Start long jobs with asyncio.create_task()")


async def first_answer(app, path: str, headers=(ORIGIN,)) -> dict | BaseException | None:
    """What the app does first with a new socket: the event it sends, the exception it raises, or
    None when it sends nothing and waits."""
    communicator = WebsocketCommunicator(app, path, headers=list(headers))
    await communicator.send_input({"type": "websocket.connect"})
    output = communicator.output_queue
    await until(lambda: not output.empty() or finished(communicator) or waiting_for_the_client(communicator))
    future = communicator.future
    if not output.empty():
        answer = output.get_nowait()
    elif future.done() and not future.cancelled():
        answer = future.exception()
    else:
        answer = None
    future.cancel()
    return answer
