"""`make bench`: how long the learner's check and the course's own test suite take.

Each figure is also given as a ratio to a baseline measured in the same run (starting pytest and
collecting the same lesson's tests, nothing run), so a slow machine does not read as a regression.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import manifest


def timed(command: list[str], cwd: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    course = manifest.load()
    python = sys.executable
    print(f"{'what':<48}{'median s':>10}{'x baseline':>12}")
    for lesson in course.lessons:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            shutil.copy2(course.root / "course.toml", root / "course.toml")
            (root / "lessons").symlink_to(course.root / "lessons")
            finished = root / "workspace" / lesson.name
            shutil.copytree(lesson.folder, finished, ignore=shutil.ignore_patterns("__pycache__", "test-artifacts"))
            baseline = statistics.median(timed([python, "-m", "pytest", "--collect-only", "-q"], finished, 3))
            check = statistics.median(timed([python, "-m", "coursekit.cli", "check", lesson.id], root, 3))
        print(f"{'baseline: pytest --collect-only, lesson ' + lesson.id:<48}{baseline:>10.2f}{1:>12.1f}")
        print(f"{'course check ' + lesson.id + ' (finished workspace)':<48}{check:>10.2f}{check / baseline:>12.1f}")
    suite = timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], course.root, 1)[0]
    print(f"{'make test (venv installed)':<48}{suite:>10.2f}{suite / baseline:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
