"""Turn a lesson (the complete solution) into a starter by stubbing its solution regions.

A region is fenced by comments naming its task:

    # BEGIN SOLUTION task=2          <!-- BEGIN SOLUTION task=2 -->      // BEGIN SOLUTION task=2
    ...                              ...                                 ...
    # END SOLUTION                   <!-- END SOLUTION -->               // END SOLUTION

Each region becomes one line in the comment's own language that fails loudly and names the task.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .manifest import Lesson

MARKED_SUFFIXES = {".py", ".html", ".js"}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "db.sqlite3", "test-artifacts")

BEGIN_MARKER = re.compile(r"^(?P<indent>\s*)(?P<opener>#|//|<!--)\s*BEGIN SOLUTION task=(?P<task>\d+)\s*(?:-->)?\s*$")
END_MARKER = re.compile(r"^\s*(?:#|//|<!--)\s*END SOLUTION\s*(?:-->)?\s*$")


class MarkerError(ValueError):
    """A solution region that is not closed, nested, or names an unknown task."""


@dataclass(frozen=True)
class Region:
    path: Path
    task: int
    first_line: int  # 1-based line number of the BEGIN marker
    last_line: int


def stub_line(indent: str, opener: str, lesson: Lesson, task_id: int) -> str:
    title = lesson.task(task_id).label
    todo = f"{title}. Read the lesson README (task {task_id}); stuck? run: course hint {lesson.id} {task_id}"
    if opener == "#":
        return f'{indent}raise NotImplementedError("{todo}")\n'
    if opener == "//":
        return f'{indent}throw new Error("{todo}");\n'
    return f"{indent}<!-- TODO {todo} -->\n"


def find_regions(path: Path) -> list[Region]:
    regions, start, task = [], None, None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if (begin := BEGIN_MARKER.match(line)) is not None:
            if start is not None:
                raise MarkerError(f"{path}:{number}: BEGIN SOLUTION inside the region opened on line {start}")
            start, task = number, int(begin["task"])
        elif END_MARKER.match(line):
            if start is None:
                raise MarkerError(f"{path}:{number}: END SOLUTION without a BEGIN SOLUTION")
            regions.append(Region(path, task, start, number))
            start = None
    if start is not None:
        raise MarkerError(f"{path}:{start}: BEGIN SOLUTION is never closed by END SOLUTION")
    return regions


def stub_text(text: str, lesson: Lesson, tasks: set[int] | None) -> str:
    """The text with every region of `tasks` (all tasks when None) replaced by its stub."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        if not inside and (begin := BEGIN_MARKER.match(line)) is not None:
            task_id = int(begin["task"])
            if tasks is None or task_id in tasks:
                out.append(stub_line(begin["indent"], begin["opener"], lesson, task_id))
                inside = True
                continue
        if inside:
            inside = not END_MARKER.match(line)
            continue
        if not END_MARKER.match(line) and not BEGIN_MARKER.match(line):
            out.append(line)
    return "".join(out)


def marked_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix in MARKED_SUFFIXES
        and path.is_file()
        and "tests" not in path.relative_to(folder).parts
        and "__pycache__" not in path.parts
    )


def lesson_regions(lesson: Lesson) -> list[Region]:
    regions = [region for path in marked_files(lesson.folder) for region in find_regions(path)]
    for region in regions:
        lesson.task(region.task)  # raises KeyError for a task the manifest does not know
    return regions


def starter_file_text(lesson: Lesson, relative: Path, tasks: set[int] | None = None) -> bytes:
    """What the starter holds for one lesson file: stubbed when it is marked, else as it is."""
    source = lesson.folder / relative
    if source.suffix in MARKED_SUFFIXES and "tests" not in relative.parts:
        return stub_text(source.read_text(encoding="utf-8"), lesson, tasks).encode("utf-8")
    return source.read_bytes()


def write_starter(lesson: Lesson, destination: Path, tasks: set[int] | None = None) -> Path:
    """Copy the lesson to `destination`, stubbing the regions of `tasks` (all when None)."""
    shutil.copytree(lesson.folder, destination, ignore=IGNORED)
    for path in marked_files(destination):
        relative = path.relative_to(destination)
        path.write_bytes(starter_file_text(lesson, relative, tasks))
    return destination
