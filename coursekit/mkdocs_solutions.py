"""A Markdown extension for the site: code included in a lesson's text shows each task's region as
one "your code goes here" line, so a reader meets an answer only by unfolding it on purpose.

Runs after pymdownx.snippets has pulled in the files. The site comes in two editions (mkdocs.yml:
`edition: !ENV [COURSE_SITE, public]`):

- public, the default and the one published: a fold (`??? example`, the lesson's Solutions) that
  holds a task's region is left out, and one note says where the solutions are. Hints stay.
- teacher: the folds are left whole, so the regions show inside them.
"""

from __future__ import annotations

from markdown import Extension
from markdown.preprocessors import Preprocessor

from .starter import BEGIN_MARKER, END_MARKER

EDITIONS = ("public", "teacher")
COMMENTS = {"#": "# {}", "//": "// {}", "<!--": "<!-- {} -->"}
WITHHELD_TITLE = "Solutions are in the teacher's edition"  # each language of the site says it in its own words
WITHHELD = [f'!!! info "{WITHHELD_TITLE}"', ""]


def split_folds(lines: list[str]) -> list[tuple[bool, list[str]]]:
    """The page as (is_fold, lines) parts; a fold is a `???` block with its indented and blank lines."""
    parts: list[tuple[bool, list[str]]] = []
    for line in lines:
        if line.startswith(("??? ", "???+ ")):
            parts.append((True, [line]))
        elif parts and parts[-1][0] and (not line.strip() or line.startswith((" ", "\t"))):
            parts[-1][1].append(line)
        elif parts and not parts[-1][0]:
            parts[-1][1].append(line)
        else:
            parts.append((False, [line]))
    return parts


def stub_regions(lines: list[str]) -> list[str]:
    shown, hiding = [], False
    for line in lines:
        if hiding:
            hiding = END_MARKER.match(line) is None
        elif begin := BEGIN_MARKER.match(line):
            note = f"✎ Task {begin['task']}: your code goes here"
            shown.append(begin["indent"] + COMMENTS[begin["opener"]].format(note))
            hiding = True
        else:
            shown.append(line)
    return shown


def holds_a_region(lines: list[str]) -> bool:
    return any(BEGIN_MARKER.match(line) for line in lines)


class HideSolutions(Preprocessor):
    def __init__(self, md, edition: str) -> None:
        super().__init__(md)
        self.edition = edition

    def run(self, lines: list[str]) -> list[str]:
        shown: list[str] = []
        for is_fold, part in split_folds(lines):
            if not is_fold:
                shown += stub_regions(part)
            elif self.edition == "teacher" or not holds_a_region(part):
                shown += part
            elif shown[-len(WITHHELD):] != WITHHELD:  # one note for a run of withheld folds
                shown += WITHHELD
        return shown


class HideSolutionsExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {"edition": ["public", "public (no solutions, the default) or teacher (with them)"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md) -> None:
        edition = (self.getConfig("edition") or "public").strip().lower()
        if edition not in EDITIONS:
            raise ValueError(f"COURSE_SITE={edition!r}: the site's edition is one of {', '.join(EDITIONS)}")
        md.preprocessors.register(HideSolutions(md, edition), "hide_solutions", 31)  # snippets runs at 32


def makeExtension(**kwargs) -> HideSolutionsExtension:
    return HideSolutionsExtension(**kwargs)
