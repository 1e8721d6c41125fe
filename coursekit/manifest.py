"""Read course.toml: the lessons, their tasks and where their files live."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "course.toml"


@dataclass(frozen=True)
class Task:
    id: int
    title: str

    @property
    def label(self) -> str:
        return f"Task {self.id}: {self.title}"


@dataclass(frozen=True)
class Lesson:
    id: str
    folder: Path
    title: str
    asgi_app: str
    hints_file: Path
    tasks: tuple[Task, ...] = field(default_factory=tuple)
    uses_database: bool = False  # `course run` applies migrations first

    @property
    def name(self) -> str:
        return self.folder.name

    def task(self, task_id: int) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(str(t.id) for t in self.tasks)
        raise KeyError(f"Lesson {self.id} has no task {task_id} (its tasks: {known}).")


@dataclass(frozen=True)
class Course:
    root: Path
    lessons: tuple[Lesson, ...]

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    def lesson(self, wanted: str) -> Lesson:
        """Find a lesson by id ("01", "1") or folder name."""
        for lesson in self.lessons:
            if wanted in (lesson.id, lesson.name) or wanted.lstrip("0") == lesson.id.lstrip("0"):
                return lesson
        known = ", ".join(lesson.id for lesson in self.lessons)
        raise KeyError(f"There is no lesson {wanted!r}. Lessons: {known}.")

    def workspace_copy(self, lesson: Lesson) -> Path:
        return self.workspace / lesson.name


def find_root(start: Path | None = None) -> Path:
    """The course root: $COURSE_ROOT, else the nearest folder above `start` holding course.toml."""
    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    package_root = Path(__file__).resolve().parent.parent
    if (package_root / MANIFEST).is_file():
        return package_root
    raise FileNotFoundError(f"No {MANIFEST} found in {here} or above; run this inside the course.")


def load(root: Path | None = None) -> Course:
    root = root or find_root()
    data = tomllib.loads((root / MANIFEST).read_text(encoding="utf-8"))
    lessons = []
    for entry in data["lessons"]:
        folder = root / entry["folder"]
        tasks = tuple(Task(id=int(t["id"]), title=t["title"]) for t in entry.get("tasks", []))
        lessons.append(
            Lesson(
                id=str(entry["id"]),
                folder=folder,
                title=entry["title"],
                asgi_app=entry["asgi_app"],
                hints_file=folder / entry.get("hints", "hints.md"),
                tasks=tasks,
                uses_database=bool(entry.get("database", False)),
            )
        )
    return Course(root=root, lessons=tuple(lessons))
