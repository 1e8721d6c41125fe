"""A Markdown extension for the site: the line `<!-- mistakes catalogue -->` becomes the catalogue of
typical learner mistakes (every lesson's mistakes.toml and the final project's), as tables.

One source: the same entries are applied to the solution by tests/test_mistakes.py.
"""

from __future__ import annotations

import html

from markdown import Extension
from markdown.preprocessors import Preprocessor

from . import manifest, mistakes

PLACEHOLDER = "<!-- mistakes catalogue -->"


def cell(text: str) -> str:
    """One table cell: `code` stays code; outside it, <, > and * are shown, never taken as markup."""
    parts = " ".join(text.split()).split("`")
    for index in range(0, len(parts), 2):  # the even parts lie outside backticks
        parts[index] = html.escape(parts[index], quote=False).replace("*", "\\*")
    return "`".join(parts).replace("|", "\\|")


def catalogue() -> list[str]:
    course = manifest.load()
    titles = {lesson.folder: f"Lesson {lesson.id}: {lesson.title}" for lesson in course.lessons}
    lines = []
    for folder in mistakes.all_folders(course):
        entries = mistakes.load(folder)
        lines += [f"## {titles.get(folder, 'The final project')}", ""]
        lines += ["| task | the mistake | the verdict names it with |", "|---|---|---|"]
        for entry in entries:
            where = ", ".join(sorted({f"`{edit.file}`" for edit in entry.edits}))
            task = str(entry.task) if entry.task is not None else "–"
            caught_by = ", ".join(f"`{test.rpartition('::')[2]}`" for test in entry.tests) or "its task's tests"
            detail = f"<br><small>in {where}; caught by {caught_by}</small>"
            lines.append(f"| {task} | {cell(entry.what)}{detail} | “{cell(entry.expect)}” |")
        lines.append("")
    return lines


class MistakesCatalogue(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            out += catalogue() if line.strip() == PLACEHOLDER else [line]
        return out


class MistakesCatalogueExtension(Extension):
    def extendMarkdown(self, md) -> None:
        md.preprocessors.register(MistakesCatalogue(md), "course_mistakes", 25)


def makeExtension(**kwargs) -> MistakesCatalogueExtension:
    return MistakesCatalogueExtension(**kwargs)
