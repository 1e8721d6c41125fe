"""`make bench`: how long the learner waits for a verdict, and how long `make test` takes.

Figures are medians on this machine, printed beside the course's targets and as a ratio to a
baseline measured in the same run (starting pytest and collecting the same lesson's tests, nothing
run), so that a slow machine does not read as a regression. Nothing here fails: it measures.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import manifest
from .runner import run_tests

TARGETS = {"task": 3.0, "lesson": 8.0, "make test": 150.0}
USES_A_BROWSER = re.compile(r"def test_\w+\([^)]*\b(page|browser)\b")


def timed(command: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(what: str, seconds: float, baseline: float, target: float | None = None) -> None:
    goal = f"<= {target:.0f}" if target else ""
    verdict = ("ok" if seconds <= target else "OVER") if target else ""
    print(f"{what:<52}{seconds:>9.2f}{seconds / baseline:>11.1f}{goal:>9}  {verdict}", flush=True)


def browser_tasks(folder: Path) -> set[int]:
    collected = run_tests(folder, collect_only=True)
    return {test.task_id for test in collected.tests if USES_A_BROWSER.search(test.test_code)}


def main() -> int:
    course = manifest.load()
    python = sys.executable
    print(f"{'what':<52}{'median s':>9}{'x base':>11}{'target':>9}")
    baseline = 1.0
    for lesson in course.lessons:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            shutil.copy2(course.root / "course.toml", root / "course.toml")
            (root / "lessons").symlink_to(course.root / "lessons")
            finished = root / "workspace" / lesson.name
            shutil.copytree(lesson.folder, finished, ignore=shutil.ignore_patterns("__pycache__", "test-artifacts"))
            check = [python, "-m", "coursekit.cli", "check", lesson.id]
            baseline = timed([python, "-m", "pytest", "--collect-only", "-q"], finished, 3)
            with_browser = browser_tasks(finished)
            per_task = [timed(check + ["--task", str(task.id)], root, 3)
                        for task in lesson.tasks if task.id not in with_browser]
            whole = timed(check, root, 3)
        row(f"baseline: pytest --collect-only, lesson {lesson.id}", baseline, baseline)
        row(f"course check {lesson.id} --task N, p50 of {len(per_task)} non-browser tasks",
            statistics.median(per_task), baseline, TARGETS["task"])
        row(f"course check {lesson.id} (finished lesson)", whole, baseline, TARGETS["lesson"])
    start = time.perf_counter()
    subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=course.root, capture_output=True)
    subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=course.root / "final_project",
                   capture_output=True)
    row("make test (venv installed: the course, then the chat)", time.perf_counter() - start, baseline,
        TARGETS["make test"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
