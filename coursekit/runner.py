"""Run a lesson's tests in a child pytest and read back what happened to each test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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


def run_tests(folder: Path, tasks: tuple[int, ...] = (), timeout: float = 900,
              collect_only: bool = False, select: tuple[str, ...] = ()) -> RunResult:
    """Run the tests of `folder` (a lesson or a copy of one), only those of `tasks` when given,
    only the test node ids in `select` when given."""
    with tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        results_path = Path(scratch) / "results.json"
        command = [sys.executable, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider",
                   "--course-results", str(results_path)]
        for task in tasks:
            command += ["--task", str(task)]
        if collect_only:
            command.append("--collect-only")
        command += list(select)
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        environment.pop("PYTEST_ADDOPTS", None)
        try:
            completed = subprocess.run(command, cwd=folder, env=environment, capture_output=True,
                                       text=True, timeout=timeout)
        except subprocess.TimeoutExpired as expired:
            return RunResult(exitstatus=2, console=f"The tests ran longer than {timeout:.0f} s.\n{expired.stdout or ''}")
        console = completed.stdout + completed.stderr
        if not results_path.exists():
            return RunResult(exitstatus=completed.returncode or 3, console=console)
        data = json.loads(results_path.read_text(encoding="utf-8"))
    return RunResult(
        exitstatus=data["exitstatus"],
        tests=[TestResult(**{key: test[key] for key in TestResult.__dataclass_fields__}) for test in data["tests"]],
        collection_errors=data["collection_errors"],
        console=console,
    )
