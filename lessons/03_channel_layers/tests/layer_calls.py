"""What the code under test asks of the channel layer: every send and group_send, and whether it ran.

"Nothing arrived" has many causes; this record names the one at hand, and early, instead of letting
a test wait out its deadline: the call was never made, it was made without `await` (a coroutine that
never runs), to a group nobody joined, to another group or channel, with send where group_send
belongs (or the reverse), or with an event type that no handler matches.
"""

import asyncio
import contextvars
import time
from dataclasses import dataclass, field

import pytest
from asgiref.sync import markcoroutinefunction
from channels.testing import WebsocketCommunicator
from coursekit.timing import scaled

from .crashes import crash_report
from .deadlines import ARRIVE

# A coroutine that its caller awaits starts at once (in async code) or within a loop turn (from
# async_to_sync, whose sync caller the tests await before they look); one still unstarted after
# this long was dropped without `await`. Also how long the right call gets to follow a wrong one.
SETTLE = scaled(0.3)
# The in-memory layer's group_send calls its own send() once per member: those are not the code's calls.
FANNING_OUT = contextvars.ContextVar("fanning_out", default=False)


@dataclass
class Call:
    method: str  # "send" or "group_send"
    target: str  # a channel name for send, a group name for group_send
    event: dict
    made_at: float = field(default_factory=time.monotonic)
    started: bool = False
    coroutine: object = None

    def __str__(self) -> str:
        return f"{self.method}({self.target!r}, {{'type': {self.event.get('type')!r}, ...}})"

    def older_than(self, seconds: float) -> bool:
        return time.monotonic() - self.made_at > seconds


def unawaited(call: Call, by: str = "The code") -> str:
    call.coroutine.close()  # said here in words, not later as a RuntimeWarning about this wrapper
    return (f"{by} called {call} but never awaited it, so nothing was sent: a coroutine function called "
            f"without await only makes a coroutine. In a consumer write await self.channel_layer.{call.method}(...); "
            f"in sync code (a view, a signal) write async_to_sync(channel_layer.{call.method})(...).")


class LayerCalls:
    """Installed on the test's layer, which then knows it as `layer.recorded_calls`."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.calls: list[Call] = []
        self.joined: set[str] = set()  # every group that a channel has joined in this test
        for method in ("send", "group_send"):
            setattr(layer, method, self.recording(method, getattr(layer, method)))
        layer.group_add = self.noting_joins(layer.group_add)
        layer.recorded_calls = self

    def noting_joins(self, group_add):
        async def noted(group, channel):
            self.joined.add(group)
            return await group_add(group, channel)

        return noted

    def recording(self, method: str, original):
        def record(target, event):
            if FANNING_OUT.get():
                return original(target, event)
            call = Call(method, target, event)
            self.calls.append(call)

            async def run():
                call.started = True
                token = FANNING_OUT.set(method == "group_send")
                try:
                    return await original(target, event)
                finally:
                    FANNING_OUT.reset(token)

            call.coroutine = run()
            return call.coroutine

        return markcoroutinefunction(record)  # so that async_to_sync takes it as the coroutine function it replaces

    def dropped(self) -> Call | None:
        return next((call for call in self.calls if not call.started and call.older_than(SETTLE)), None)

    def problem(self) -> str | None:
        """Why a frame the test waits for cannot come, when the calls made so far already say so."""
        if call := self.dropped():
            return unawaited(call)
        lost = next((call for call in self.calls
                     if call.method == "group_send" and call.started and call.target not in self.joined), None)
        if lost and not self.joined:
            return (f"The code made {lost}, but no channel ever joined a group, so it reached nobody: connect() "
                    "must call await self.channel_layer.group_add(self.group_name, self.channel_name).")
        if lost:
            return (f"The code made {lost}, but no channel ever joined {lost.target!r}, so it reached nobody (the "
                    f"groups joined: {sorted(self.joined)}). Join and send with the same group name: "
                    "group_name_for(room_name).")
        return None

    async def expect(self, method: str, target: str, event_type: str, *, by: str, purpose: str = "",
                     sender: WebsocketCommunicator | None = None) -> Call:
        """The call `method(target, {"type": event_type, ...})` that `by` must make and await; `sender`:
        the socket whose consumer makes it, if any (its crash is then the verdict)."""
        deadline = time.monotonic() + ARRIVE
        while True:
            for call in self.calls:
                if call.started and (call.method, call.target, call.event.get("type")) == (method, target, event_type):
                    return call
            wrong = [call for call in self.calls
                     if (call.method, call.target) == (method, target) or call.event.get("type") == event_type]
            if (time.monotonic() > deadline or self.dropped() or any(call.older_than(SETTLE) for call in wrong)
                    or sender is not None and sender.future.done()):
                break
            await asyncio.sleep(0.01)
        crash = sender and crash_report(sender, f"the test waited for {by} to make {method}(...)")
        pytest.fail(crash or self.diagnosis(method, target, event_type, by, purpose), pytrace=False)

    def diagnosis(self, method: str, target: str, event_type: str, by: str, purpose: str) -> str:
        wanted = f"{method}({target!r}, {{'type': {event_type!r}, ...}})"
        if call := self.dropped():
            return unawaited(call, by)
        call = next((call for call in self.calls if call.event.get("type") == event_type), None)
        if call and call.method == method == "group_send":
            return (f"{by} made {call}, but the room's sockets joined {target!r}: every group name must come "
                    "from group_name_for(room_name).")
        if call and call.method == method == "send":
            return f"{by} made {call}, but the channel to reach is {target!r}."
        if call and call.method == "send":
            return (f"{by} made {call}: send() reaches one channel only. A message for the room goes to every "
                    f"member with {wanted}.")
        if call:
            return (f"{by} made {call}: every member of that group gets it. To reach one member, send to its "
                    f"channel: {wanted}.")
        call = next((call for call in self.calls if (call.method, call.target) == (method, target)), None)
        if call:
            return (f"{by} made {call}; the event's type should be {event_type!r}, and its handler is named after "
                    f"it, with dots turned into underscores: {event_type.replace('.', '_')}().")
        return f"{by} never called {wanted} within {ARRIVE:g} s. {purpose}".strip()
