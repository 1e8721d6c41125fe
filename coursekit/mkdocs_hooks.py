"""MkDocs hooks of the course's site (mkdocs.yml `hooks:`).

- The version banner: the versions of the packages the course is written for, read from the
  installed packages, so the banner cannot drift from what the tests ran with.
- Notebooks executed once: with COURSE_REUSE_NOTEBOOK_OUTPUTS=1 (the site test, `make docs`), a
  notebook the tests have executed is rendered from that executed copy (see
  coursekit/notebook_outputs.py); mkdocs.yml's `execute_ignore` keeps mkdocs-jupyter from running
  it again. A notebook without a fresh copy is executed as usual.
- Notebook cells tagged "solution" show their output but not their code on the public edition.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import version

import mkdocs.plugins

from coursekit import notebook_outputs

log = logging.getLogger("mkdocs.hooks.course")

# (name shown, distribution)
PACKAGES = [
    ("Django", "django"),
    ("Channels", "channels"),
    ("daphne", "daphne"),
    ("channels-redis", "channels-redis"),
    ("redis-py", "redis"),
]


def _minor(dist: str) -> str:
    return ".".join(version(dist).split(".")[:2])


def on_config(config):
    import sys

    versions = [("Python", f"{sys.version_info.major}.{sys.version_info.minor}")]
    for name, dist in PACKAGES:
        shown = _minor(dist)
        if dist == "django" and shown.endswith(".2"):  # every x.2 release of Django is an LTS
            shown += " LTS"
        versions.append((name, shown))
    config.extra["versions"] = versions
    return config


def _reuse() -> bool:
    return os.environ.get("COURSE_REUSE_NOTEBOOK_OUTPUTS", "") not in ("", "0")


# Before mkdocs-jupyter's own on_pre_page, which reads the notebook from abs_src_path.
@mkdocs.plugins.event_priority(100)
def on_pre_page(page, config, files):
    source = page.file.abs_src_path
    if not _reuse() or not source or not source.endswith(".ipynb"):
        return page
    copy = notebook_outputs.executed_copy(source)
    if copy.exists():
        log.info("Notebook %s: the outputs of the tests' run (%s)", page.file.src_uri,
                 copy.relative_to(notebook_outputs.ROOT))
        page.file.abs_src_path = str(copy)
    else:
        log.info("Notebook %s: no executed copy of this version, executing it", page.file.src_uri)
    return page


# A notebook cell tagged "solution" writes out a lesson task's answer (to show the protocol at work). The
# public edition of the site shows its output but not its code, like the lessons' folded solutions.
WITHHELD_CELL = ('<div class="admonition info"><p class="admonition-title">This cell writes out a task\'s answer'
                 '</p><p>Its code answers one of the lesson\'s tasks: the teacher\'s edition of the site shows it. '
                 'What it prints, if anything, follows.</p></div>')


def _edition(config) -> str:
    return (config["mdx_configs"].get("coursekit.mkdocs_solutions", {}).get("edition") or "public").strip().lower()


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb") or _edition(config) == "teacher" or "celltag_solution" not in html:
        return html
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for cell in soup.select("div.celltag_solution"):
        for code in cell.select("div.jp-Cell-inputWrapper"):
            code.replace_with(BeautifulSoup(WITHHELD_CELL, "html.parser"))
    return str(soup)
