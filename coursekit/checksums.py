"""The graded files of a class repository and their SHA-256 checksums (`checksums.sha256`).

`course release` writes the file in `sha256sum` format, so `sha256sum -c checksums.sha256` checks it
too. Its presence is what makes a folder a class repository: there, the lesson folders are the
learner's own work and `course check` refuses to grade changed tests. The file lives in the
learner's repository, so it catches an honest edit, not a determined one: graders use the tests of
their own release (`pristine_tests`), whatever the submission holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .manifest import MANIFEST, Course, Lesson

CHECKSUMS = "checksums.sha256"
TOOL = "coursekit"
LESSON_CONFIGS = ("pytest.ini", "conftest.py")
NOT_GRADED = {"__pycache__", ".pytest_cache"}


def is_release(root: Path) -> bool:
    return (root / CHECKSUMS).is_file()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files_under(root: Path, folder: Path) -> list[PurePosixPath]:
    return [PurePosixPath(path.relative_to(root).as_posix()) for path in sorted((root / folder).rglob("*"))
            if path.is_file() and not NOT_GRADED.intersection(path.parts) and path.suffix != ".pyc"]


def _lesson_folder(course: Course, lesson: Lesson) -> PurePosixPath:
    return PurePosixPath(lesson.folder.relative_to(course.root).as_posix())


def graded_folders(course: Course, lesson: Lesson | None = None) -> list[PurePosixPath]:
    """Folders whose every file is graded: each lesson's tests/ (or `lesson`'s only) and the tool."""
    lessons = course.lessons if lesson is None else (lesson,)
    return [*(_lesson_folder(course, each) / "tests" for each in lessons), PurePosixPath(TOOL)]


def graded_singles(course: Course, lesson: Lesson | None = None) -> list[PurePosixPath]:
    """Single files that are graded wherever they appear, present in the release or not."""
    lessons = course.lessons if lesson is None else (lesson,)
    return [PurePosixPath(MANIFEST),
            *(_lesson_folder(course, each) / name for each in lessons for name in LESSON_CONFIGS)]


def graded_files(course: Course, lesson: Lesson | None = None) -> list[PurePosixPath]:
    """The files the grading depends on, as they are now under `course.root`."""
    found = [path for folder in graded_folders(course, lesson) for path in _files_under(course.root, Path(folder))]
    found += [path for path in graded_singles(course, lesson) if (course.root / path).is_file()]
    return sorted(set(found))


def write_checksums(course: Course) -> Path:
    lines = [f"{digest((course.root / path).read_bytes())}  {path}" for path in graded_files(course)]
    target = course.root / CHECKSUMS
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def read_checksums(root: Path) -> dict[PurePosixPath, str]:
    recorded = {}
    for line in (root / CHECKSUMS).read_text(encoding="utf-8").splitlines():
        if line.strip():
            value, name = line.split(maxsplit=1)
            recorded[PurePosixPath(name.strip().lstrip("*"))] = value
    return recorded


@dataclass(frozen=True)
class Change:
    path: PurePosixPath
    how: str  # "changed" | "missing" | "added"

    def __str__(self) -> str:
        return f"{self.path} ({self.how})"


def changes(course: Course, lesson: Lesson | None = None) -> list[Change]:
    """Graded files of a class repository that differ from its checksums: those of `lesson` and the
    shared ones (the tool, the manifest), or of every lesson when `lesson` is None."""
    recorded = read_checksums(course.root)
    wanted = set(graded_folders(course, lesson)) | set(graded_singles(course, lesson))

    def concerned(path: PurePosixPath) -> bool:
        return path in wanted or any(folder in path.parents for folder in wanted)

    found = []
    for path, value in sorted(recorded.items()):
        if not concerned(path):
            continue
        file = course.root / path
        if not file.is_file():
            found.append(Change(path, "missing"))
        elif digest(file.read_bytes()) != value:
            found.append(Change(path, "changed"))
    found += [Change(path, "added") for path in graded_files(course, lesson) if path not in recorded]
    return found


def tamper_message(found: list[Change]) -> str:
    listed = ", ".join(map(str, found[:5])) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return (f"Graded files differ from the originals recorded in {CHECKSUMS} ({listed}), so nothing was checked: "
            "grading always uses the original tests; restore them with `git checkout -- FILE` "
            "(and remove an added file).")


def pristine_tests(release_root: Path) -> dict[PurePosixPath, bytes]:
    """Every graded file of a release, by its path inside the release, exactly as released: what a
    grader puts into a submission before running it. Raises ValueError when the release itself no
    longer matches its checksums."""
    pristine = {}
    for path, value in read_checksums(release_root).items():
        file = release_root / path
        data = file.read_bytes() if file.is_file() else None
        if data is None or digest(data) != value:
            raise ValueError(f"The release in {release_root} was changed after `course release`: {path} "
                             f"does not match {CHECKSUMS}. Make a fresh release to grade with.")
        pristine[path] = data
    return pristine
