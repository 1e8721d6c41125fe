"""A Markdown extension for the site: code included in a lesson's text shows each task's region as
one "your code goes here" line, so a reader meets an answer only by unfolding it on purpose.

Runs after pymdownx.snippets has pulled in the files. Inside a `??? example` block (the lesson's
folded Solutions) the regions are left whole.
"""

from __future__ import annotations

from markdown import Extension
from markdown.preprocessors import Preprocessor

from .starter import BEGIN_MARKER, END_MARKER

COMMENTS = {"#": "# {}", "//": "// {}", "<!--": "<!-- {} -->"}


class HideSolutions(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        shown, in_fold, hiding = [], False, False
        for line in lines:
            if line.startswith(("??? ", "???+ ")):
                in_fold = True
            elif line.strip() and not line.startswith((" ", "\t")):
                in_fold = False
            if in_fold:
                shown.append(line)
            elif hiding:
                hiding = END_MARKER.match(line) is None
            elif begin := BEGIN_MARKER.match(line):
                note = f"✎ Task {begin['task']}: your code goes here"
                shown.append(begin["indent"] + COMMENTS[begin["opener"]].format(note))
                hiding = True
            else:
                shown.append(line)
        return shown


class HideSolutionsExtension(Extension):
    def extendMarkdown(self, md) -> None:
        md.preprocessors.register(HideSolutions(md), "hide_solutions", 31)  # snippets runs at 32


def makeExtension(**kwargs) -> HideSolutionsExtension:
    return HideSolutionsExtension(**kwargs)
