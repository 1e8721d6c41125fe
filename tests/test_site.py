"""The site builds strictly, and its lesson pages show the lessons' real files."""

import re
from html import unescape
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One worker runs this module: its tests share one site build.
pytestmark = pytest.mark.xdist_group("site")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def page_text(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    return unescape(re.sub(r"<[^>]+>", "", html))


def included_lines(include: str) -> list[str]:
    """The lines a snippet include brings in: a whole file, or its `--8<-- [start:name]` section."""
    path, _, section = include.partition(":")
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    if section:
        start = next(i for i, line in enumerate(lines) if f"[start:{section}]" in line)
        end = next(i for i, line in enumerate(lines) if f"[end:{section}]" in line)
        lines = lines[start + 1:end]
    return [line for line in lines if line.strip()]


def test_the_lesson_page_is_the_lesson_readme(site, lesson):
    readme = (lesson.folder / "README.md").read_text(encoding="utf-8")
    title = readme.splitlines()[0].lstrip("# ").strip()
    assert title in page_text(site, f"lessons/{lesson.id}")


def test_included_code_on_the_lesson_page_is_the_real_file(site, lesson):
    readme = (lesson.folder / "README.md").read_text(encoding="utf-8")
    included = re.findall(r'^\s*--8<-- "([^"]+)"', readme, flags=re.MULTILINE)
    assert included, f"lesson {lesson.id}'s README includes no code file"
    text = page_text(site, f"lessons/{lesson.id}")
    for include in included:
        longest = max(included_lines(include), key=len).strip()
        assert longest in text, f"{include} is not shown on the page (looked for: {longest})"


def test_the_notebooks_are_rendered_with_their_outputs(site):
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        html = (site / "notebooks" / notebook.stem / "index.html").read_text(encoding="utf-8")
        assert "101 Switching Protocols" in html or "jp-OutputArea" in html


def test_task_solutions_show_only_in_the_folded_solutions_section(site, lesson):
    """A reader of the site meets each task's answer only when they unfold it on purpose."""
    html = (site / "lessons" / lesson.id / "index.html").read_text(encoding="utf-8")
    outside_folds = re.sub(r"<details.*?</details>", "", html, flags=re.DOTALL)
    assert "BEGIN SOLUTION task=" not in outside_folds, f"lesson {lesson.id}'s text shows a task's solution"
    assert "BEGIN SOLUTION task=" in html, f"lesson {lesson.id}'s page has no folded Solutions"


def test_the_mistakes_page_lists_every_catalogued_mistake(site):
    from coursekit import manifest, mistakes

    text = " ".join(page_text(site, "mistakes").split())
    for folder in mistakes.all_folders(manifest.load()):
        for mistake in mistakes.load(folder):
            assert " ".join(mistake.what.replace("`", "").split()) in text, f"{mistake.label} is not on the page"
