"""The site's two editions (coursekit/mkdocs_solutions.py): the public one, the default, shows no line of
any task's solution; the teacher's (COURSE_SITE=teacher) shows them all in the lessons' folded Solutions."""

import functools
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from coursekit import manifest, starter

ROOT = Path(__file__).resolve().parent.parent
# A line this short ("return", "})") is everywhere; it says nothing about a solution.
SHORTEST = 12

pytestmark = pytest.mark.xdist_group("site-flavours")


def build(edition: str | None, out: Path) -> Path:
    env = {**os.environ, "COURSE_REUSE_NOTEBOOK_OUTPUTS": "1"}
    env.pop("COURSE_SITE", None)
    if edition:
        env["COURSE_SITE"] = edition
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"mkdocs build ({edition or 'default'}) failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> Path:
    return build(None, tmp_path_factory.mktemp("public"))  # no COURSE_SITE: the default must be public


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    return build("teacher", tmp_path_factory.mktemp("teacher"))


def shown_text(page: Path) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def legitimate_text() -> str:
    """What any edition may show: every Markdown source (the lessons' text, hints, the site's pages), the
    final project's code, the site's code examples, and the lessons' code as their starters have it."""
    course = manifest.load()
    parts = [path.read_text(encoding="utf-8") for folder in ("docs", "lessons", "final_project")
             for path in (ROOT / folder).rglob("*.md")]
    parts += [path.read_text(encoding="utf-8") for folder in ("final_project", "docs/includes")
              for path in (ROOT / folder).rglob("*")
              if path.suffix in starter.MARKED_SUFFIXES and "__pycache__" not in path.parts]
    for lesson in course.lessons:
        parts += [starter.stub_text(path.read_text(encoding="utf-8"), lesson, None)
                  for path in starter.marked_files(lesson.folder)]
    return "\n".join(parts)


@functools.cache
def solution_lines() -> dict[str, str]:
    """Each line of a solution region that shows nowhere else, with where it comes from."""
    elsewhere = legitimate_text()
    lines = {}
    for lesson in manifest.load().lessons:
        for region in starter.lesson_regions(lesson):
            text = region.path.read_text(encoding="utf-8").splitlines()
            for line in text[region.first_line:region.last_line - 1]:
                line = line.strip()
                if len(line) >= SHORTEST and line not in elsewhere:
                    lines[line] = f"{region.path.relative_to(ROOT)}:{region.first_line} (task {region.task})"
    return lines


def pages(site: Path, notebooks: bool) -> dict[str, str]:
    """The text of the site's notebook pages, or of all its other pages."""
    return {str(page.relative_to(site)): shown_text(page) for page in site.rglob("*.html")
            if (page.relative_to(site).parts[0] == "notebooks") == notebooks}


def leaks(site: Path, notebooks: bool) -> list[str]:
    found = []
    for line, origin in solution_lines().items():
        found += [f"{page}: {line!r} (from {origin})" for page, text in pages(site, notebooks).items() if line in text]
    return found


def test_the_public_site_shows_no_line_of_any_solution(public):
    assert len(solution_lines()) > 50, "too few distinctive solution lines to prove anything"
    found = leaks(public, notebooks=False)
    assert not found, "the public site shows solutions:\n" + "\n".join(found)
    lesson = shown_text(public / "lessons" / "01" / "index.html")
    assert "Solutions are in the teacher's edition" in lesson
    assert "Hints for task 1" in lesson, "the hints must stay on the public site"


def test_the_public_notebooks_show_no_line_of_any_solution(public):
    """Notebook 01 writes out lesson 01's tasks 1 and 3 (hello_asgi, accept_for), notebook 04 lesson 03 task 4's
    `except ChannelFull:`: cells tagged "solution", whose code only the teacher's edition shows."""
    found = leaks(public, notebooks=True)
    assert not found, ("the public notebooks show solutions (tag the cell \"solution\": its code is then kept for "
                       "the teacher's edition):\n" + "\n".join(found))


def test_the_teachers_site_shows_every_solution_line_in_a_fold(teacher):
    lessons = {lesson.id: (teacher / "lessons" / lesson.id / "index.html").read_text(encoding="utf-8")
               for lesson in manifest.load().lessons}
    folds = {id: unescape(re.sub(r"<[^>]+>", "", "".join(re.findall(r"<details.*?</details>", html, re.DOTALL))))
             for id, html in lessons.items()}
    missing = [f"{line!r} (from {origin})" for line, origin in solution_lines().items()
               if not any(line in text for text in folds.values())]
    assert not missing, "the teacher's site lacks these solution lines:\n" + "\n".join(missing)
    assert "Solutions are in the teacher's edition" not in "".join(lessons.values())
