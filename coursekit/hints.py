"""Read a lesson's hints.md: `## General`, then one `## Task N: ...` section per task.

The site shows each task's hints on the lesson page by including a section of hints.md
(`<!-- --8<-- [start:task1] -->` ... `<!-- --8<-- [end:task1] -->`, pymdownx.snippets); those marker
lines are for the site only and never part of a hint."""

from __future__ import annotations

import re
from pathlib import Path

_HEADING = re.compile(r"^## (?P<title>.+?)\s*$", re.MULTILINE)
_TASK = re.compile(r"^Task (?P<id>\d+)\b")
_SITE_MARKER = re.compile(r"^.*-{1,}8<-{1,}[ \t]+\[[ \t]*(?:start|end)[ \t]*:[^\]]*\].*(?:\n|$)", re.MULTILINE)


def sections(hints_file: Path) -> dict[str, str]:
    """Heading -> text. Task sections are keyed "1", "2", ...; the general one "general"."""
    text = _SITE_MARKER.sub("", hints_file.read_text(encoding="utf-8"))
    found = {}
    headings = list(_HEADING.finditer(text))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        title = heading["title"]
        task = _TASK.match(title)
        key = task["id"] if task else title.lower()
        found[key] = text[heading.start():end].strip()
    return found


def hint(hints_file: Path, task_id: int | None) -> str:
    known = sections(hints_file)
    key = "general" if task_id is None else str(task_id)
    if key not in known:
        raise KeyError(f"{hints_file.name} has no section for {'the lesson' if task_id is None else f'task {task_id}'}.")
    return known[key]
