"""Notice an event loop that stops answering (a blocking call in async code) and say where it was stuck.

The loop beats every BEAT seconds (a callback it schedules for itself); a thread of ours looks at
the last beat. A loop that misses most of its beats over the window is blocked: something in it
runs without awaiting, such as time.sleep(), requests.get() or a `while True` with no await. The
thread then reads the loop thread's stack and names the first line of the learner's own code on it.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

BEAT = 0.05
LATE = 0.25  # a beat this late means the loop is stuck at that moment
BLOCKED_SHARE = 0.6  # stuck at this share of the looks over the window: blocked (time.sleep(1) between
# short yields is stuck about 75% of the time; a healthy loop on a busy machine, rarely more than a few %)
# A daphne child writes this, then one line of JSON, to its log when its loop is blocked.
LOG_MARKER = "course-loop-blocked: "


def blocked_message(seconds: float, where: str | None) -> str:
    message = (f"The server stopped answering for {seconds:.0f} s: is there a blocking call such as "
               "time.sleep() or requests.get() in async code? Await asyncio.sleep() or an async client "
               "instead, or move the blocking work to a thread (sync_to_async).")
    if where:
        message += f"\nIt was stuck at {where}"
    return message


def learner_line(frame, root: Path) -> str | None:
    """The innermost line on the stack that is the learner's code: under `root`, outside tests/."""
    if frame is None:
        return None
    for summary in reversed(traceback.extract_stack(frame)):
        if summary.filename.startswith("<"):  # <frozen runpy>, <string>: no file of the learner's
            continue
        path = Path(summary.filename)
        try:
            relative = path.resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        if "tests" in relative.parts or "site-packages" in relative.parts or relative.parts[0].startswith("."):
            continue
        return f"{relative}, line {summary.lineno}, in {summary.name}: {(summary.line or '').strip()}"
    return None


class LoopWatch:
    """Watch `loop` (run by the thread that creates this object) for `window` seconds of blockage."""

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float, root: Path,
                 on_blocked: Callable[[float, str | None], None]) -> None:
        self.loop, self.window, self.root, self.on_blocked = loop, window, root.resolve(), on_blocked
        self.thread_id = threading.get_ident()
        self.last_beat = time.monotonic()
        self.stopped = threading.Event()
        self.handle: asyncio.TimerHandle | None = None

    def beat(self) -> None:
        self.last_beat = time.monotonic()
        if not self.stopped.is_set():
            self.handle = self.loop.call_later(BEAT, self.beat)

    def start(self) -> "LoopWatch":
        self.beat()
        threading.Thread(target=self.watch, name="course-loopwatch", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self.handle is not None:
            self.handle.cancel()

    def watch(self) -> None:
        looks: collections.deque[tuple[float, bool]] = collections.deque()
        where, reported = None, False
        while not self.stopped.wait(BEAT):
            now = time.monotonic()
            if not self.loop.is_running():  # between tests nothing runs the loop: that is not blocking
                looks.clear()
                continue
            stuck = now - self.last_beat > LATE
            if stuck:
                where = learner_line(sys._current_frames().get(self.thread_id), self.root) or where
            looks.append((now, stuck))
            while looks and looks[0][0] < now - self.window:
                looks.popleft()
            covered = looks[-1][0] - looks[0][0] >= self.window - 2 * BEAT
            blocked = covered and sum(s for _, s in looks) >= BLOCKED_SHARE * len(looks)
            if blocked and not reported and not self.stopped.is_set():
                reported = True
                self.on_blocked(self.window, where)
            elif not stuck:
                reported = False
