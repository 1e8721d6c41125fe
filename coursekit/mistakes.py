"""The catalogue of typical learner mistakes: each lesson's `mistakes.toml` (and the final project's).

Every entry is a small edit of the solution that a learner really makes, with the task it breaks and
a phrase that the failing test's message must contain, so that the learner reads what they did wrong:

    [[mistake]]
    id = "sleep-in-ticker"
    task = 4
    what = "time.sleep() in the async ticker instead of await asyncio.sleep()"
    file = "realtime/clock.py"
    find = "await asyncio.sleep(interval)"
    replace = "time.sleep(interval)"
    expect = "blocking call"

Several edits: `[[mistake.edit]]` tables, each with file, find and replace. `tests` (optional) narrows
the run to some test node ids; the final project, which has no tasks, names its tests this way.
`python -m coursekit.mistakes 01 [ID ...]` applies each mistake to a scratch copy and prints the verdict.
`python -m coursekit.mistakes --pin 01` runs each entry that names no `tests` against all its task's
tests, and writes into the catalogue the one test that catches it: the course's own check then runs
only that test (a few seconds, not a whole task's worth of waits).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import manifest, starter
from .runner import RunResult, TestResult, run_tests

CATALOGUE = "mistakes.toml"


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class Mistake:
    folder: Path  # the project the mistake is made in (a lesson, or the final project)
    id: str
    what: str
    expect: str
    edits: tuple[Edit, ...]
    task: int | None = None
    tests: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.folder.name}:{self.id}"


def load(folder: Path) -> list[Mistake]:
    path = folder / CATALOGUE
    if not path.exists():
        return []
    mistakes = []
    for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("mistake", []):
        edits = [Edit(e["file"], e["find"], e["replace"]) for e in entry.get("edit", [])]
        if "file" in entry:
            edits.insert(0, Edit(entry["file"], entry["find"], entry["replace"]))
        mistakes.append(Mistake(folder=folder, id=entry["id"], what=entry["what"], expect=entry["expect"],
                                edits=tuple(edits), task=entry.get("task"), tests=tuple(entry.get("tests", ()))))
    return mistakes


def all_folders(course: manifest.Course) -> list[Path]:
    return [lesson.folder for lesson in course.lessons] + [course.root / "final_project"]


def apply(mistake: Mistake, copy: Path) -> None:
    """Make the mistake in `copy`; each `find` must occur exactly once, or the catalogue is stale."""
    for edit in mistake.edits:
        path = copy / edit.file
        text = path.read_text(encoding="utf-8")
        count = text.count(edit.find)
        if count != 1:
            raise ValueError(f"{mistake.label}: {edit.file} holds {edit.find!r} {count} times, not once")
        path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


def copy_of(folder: Path, destination: Path) -> Path:
    shutil.copytree(folder, destination, ignore=starter.IGNORED)
    return destination


def run(mistake: Mistake, scratch: Path) -> RunResult:
    copy = copy_of(mistake.folder, scratch / mistake.folder.name)
    apply(mistake, copy)
    tasks = (mistake.task,) if mistake.task is not None else ()
    return run_tests(copy, tasks=tasks, pytest_args=mistake.tests)


def failures(run: RunResult) -> list[TestResult]:
    return [test for test in run.tests if test.status != "pass"]


def caught(mistake: Mistake, run: RunResult) -> TestResult | None:
    """The failing test whose message names the mistake, if any."""
    return next((test for test in failures(run) if mistake.expect in test.message + "\n" + test.longrepr), None)


def pin(mistake: Mistake, test: TestResult) -> None:
    """Write `tests = ["<the test that catches it>"]` into the entry, after its `expect` line."""
    path = mistake.folder / CATALOGUE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f'id = "{mistake.id}"')
    expect = next(i for i in range(start, len(lines)) if lines[i].startswith("expect ="))
    lines.insert(expect + 1, f"tests = [{json.dumps(test.nodeid)}]\n")  # JSON strings are TOML strings
    path.write_text("".join(lines), encoding="utf-8")


USAGE = "usage: python -m coursekit.mistakes [--pin] [NN|final] [ID ...]   (NN: a lesson number, e.g. 01)"


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(USAGE)
        return 0
    pinning = "--pin" in argv
    argv = [arg for arg in argv if arg != "--pin"]
    course = manifest.load()
    wanted = argv[0] if argv else None
    folders = all_folders(course)
    if wanted:
        try:
            folders = [course.lesson(wanted).folder] if wanted != "final" else [course.root / "final_project"]
        except KeyError as unknown:
            print(f"{unknown.args[0]}\n{USAGE}", file=sys.stderr)
            return 2
    ids = set(argv[1:])
    status = 0
    for folder in folders:
        for mistake in load(folder):
            if ids and mistake.id not in ids or pinning and mistake.tests:
                continue
            with tempfile.TemporaryDirectory(prefix="course-mistake-") as scratch:
                result = run(mistake, Path(scratch))
            test = caught(mistake, result)
            verdict = "caught" if test else ("FAILS, BUT NOT NAMED" if failures(result) else "NOT CAUGHT")
            status |= test is None
            print(f"{mistake.label} (task {mistake.task}): {verdict}")
            shown = test or next(iter(failures(result)), None)
            if pinning and test is not None:
                pin(mistake, test)
            if result.error:
                print("  error: " + result.error[:800])
            elif shown is not None:
                print(f"  {shown.nodeid}\n  {shown.message}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
