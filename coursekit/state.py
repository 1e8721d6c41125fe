"""Progress, in a plain-text file in the workspace (the same shape as rustlings' state file).

    DON'T EDIT THIS FILE! ...
    <blank>
    01                      <- the current lesson
    <blank>
    01/1                    <- one finished task per line
    01/2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HEADER = "DON'T EDIT THIS FILE! `course start` and `course check` keep it up to date."
FILE_NAME = ".course-state.txt"


@dataclass
class State:
    path: Path
    current: str | None = None
    finished: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, workspace: Path) -> "State":
        path = workspace / FILE_NAME
        if not path.exists():
            return cls(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        current = lines[2].strip() if len(lines) > 2 and lines[2].strip() else None
        finished = {line.strip() for line in lines[4:] if line.strip()}
        return cls(path, current, finished)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = [HEADER, "", self.current or "", "", *sorted(self.finished)]
        self.path.write_text("\n".join(body) + "\n", encoding="utf-8")

    def is_finished(self, lesson_id: str, task_id: int) -> bool:
        return f"{lesson_id}/{task_id}" in self.finished

    def record(self, lesson_id: str, passing: set[int], checked: set[int]) -> None:
        """After a check of the tasks `checked`: of those, exactly the ones passing now count as finished."""
        self.finished -= {f"{lesson_id}/{task_id}" for task_id in checked}
        self.finished |= {f"{lesson_id}/{task_id}" for task_id in passing}
