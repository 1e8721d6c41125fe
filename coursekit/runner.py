"""Run a lesson's tests in a child pytest and read back what happened to each test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# pytest's exit codes that mean "the tests could not run", as opposed to "some failed".
NOTHING_RAN = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass
class TestResult:
    nodeid: str
    name: str
    task_id: int | None
    status: str  # pass | fail | error
    message: str
    longrepr: str
    output: str
    test_code: str


@dataclass
class RunResult:
    exitstatus: int
    tests: list[TestResult] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    console: str = ""

    @property
    def error(self) -> str | None:
        """Why nothing could run, or None when the tests ran."""
        if self.collection_errors:
            return "The tests could not be loaded:\n" + "\n".join(self.collection_errors)
        if self.exitstatus in NOTHING_RAN:
            return f"pytest stopped ({NOTHING_RAN[self.exitstatus]}):\n{self.console[-3000:]}"
        return None

    def tests_of(self, task_id: int) -> list[TestResult]:
        return [test for test in self.tests if test.task_id == task_id]

    def task_passes(self, task_id: int) -> bool:
        tests = self.tests_of(task_id)
        return bool(tests) and all(test.status == "pass" for test in tests)

    def first_failure(self) -> TestResult | None:
        return next((test for test in self.tests if test.status != "pass"), None)


def run_tests(folder: Path, tasks: tuple[int, ...] = (), timeout: float = 600,
              collect_only: bool = False, pytest_args: tuple[str, ...] = (),
              on_event: Callable[[dict], None] | None = None) -> RunResult:
    """Run the tests of `folder` (a lesson or a copy of one), only those of `tasks` when given,
    with `pytest_args` added (test node ids, options). `on_event` hears, while the tests run, the
    collected tests ({"collected": [...]}) and then each finished one ({"done": nodeid, ...})."""
    with tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        results_path = Path(scratch) / "results.json"
        command = [sys.executable, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider",
                   "--course-results", str(results_path)]
        for task in tasks:
            command += ["--task", str(task)]
        if collect_only:
            command.append("--collect-only")
        command += list(pytest_args)
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        environment.pop("PYTEST_ADDOPTS", None)
        console_path = Path(scratch) / "console.txt"
        with console_path.open("w+", encoding="utf-8", errors="replace") as console_file:
            child = subprocess.Popen(command, cwd=folder, env=environment, stdout=console_file,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
            timed_out = not follow(child, results_path.with_suffix(".progress"), timeout, on_event)
            console_file.seek(0)
            console = console_file.read()
        if timed_out:
            return RunResult(exitstatus=2, console=f"The tests ran longer than {timeout:.0f} s and were stopped.\n"
                                                   f"{console[-3000:]}")
        if not results_path.exists():
            return RunResult(exitstatus=child.returncode or 3, console=console)
        data = json.loads(results_path.read_text(encoding="utf-8"))
    return RunResult(
        exitstatus=data["exitstatus"],
        tests=[TestResult(**{key: test[key] for key in TestResult.__dataclass_fields__}) for test in data["tests"]],
        collection_errors=data["collection_errors"],
        console=console,
    )


def follow(child: subprocess.Popen, progress: Path, timeout: float,
           on_event: Callable[[dict], None] | None) -> bool:
    """Wait for `child`, passing each line of its progress file to `on_event` as it appears.
    False when it ran past `timeout` (it is then killed, with every process it started)."""
    deadline = time.monotonic() + timeout
    read = 0
    while True:
        finished = child.poll() is not None
        if on_event is not None and progress.exists():
            with progress.open("rb") as events:
                events.seek(read)
                chunk = events.read()
            complete = chunk[:chunk.rfind(b"\n") + 1]
            read += len(complete)
            for line in complete.decode("utf-8").splitlines():
                on_event(json.loads(line))
        if finished:
            return True
        if time.monotonic() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return False
        time.sleep(0.05)
