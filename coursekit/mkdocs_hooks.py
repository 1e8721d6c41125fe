"""MkDocs hooks of the course's site (mkdocs.yml `hooks:`).

- The version banner: the versions of the packages the course is written for, read from the
  installed packages, so the banner cannot drift from what the tests ran with.
- Notebooks executed once: with COURSE_REUSE_NOTEBOOK_OUTPUTS=1 (the site test, `make docs`), a
  notebook the tests have executed is rendered from that executed copy (see
  coursekit/notebook_outputs.py); mkdocs.yml's `execute_ignore` keeps mkdocs-jupyter from running
  it again. A notebook without a fresh copy is executed as usual.
- Notebook cells tagged "solution" show their output but not their code on the public edition.
- The languages (mkdocs-static-i18n builds the site once per language, docs/*.<locale>.md): notes in the
  reader's language over pages still in English and over translations behind their English page, one
  search index per language, and the notebooks built in English only.
"""

from __future__ import annotations

import json
import logging
import os
import re
from html import escape
from importlib.metadata import version
from pathlib import Path

import mkdocs.plugins

from coursekit import notebook_outputs, translations
from coursekit.mkdocs_solutions import WITHHELD_TITLE

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
    html = _language_notes(html, page, config)
    if not page.file.src_uri.endswith(".ipynb") or _edition(config) == "teacher" or "celltag_solution" not in html:
        return html
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for cell in soup.select("div.celltag_solution"):
        for code in cell.select("div.jp-Cell-inputWrapper"):
            code.replace_with(BeautifulSoup(WITHHELD_CELL, "html.parser"))
    return str(soup)


# --- the languages (mkdocs-static-i18n builds the site once per language) ---------------------------

def _build_language(config) -> str:
    return config.theme.get("language") or "en"


def _note(kind: str, title: str, body: str) -> str:
    return (f'<div class="admonition {kind} course-language-note"><p class="admonition-title">{escape(title)}</p>'
            f"<p>{body}</p></div>")


def _after_title(html: str, note: str) -> str:
    """The note under the page's first heading (its title), or at the top if it has none."""
    end = html.find("</h1>")
    return html[:end + 5] + note + html[end + 5:] if end >= 0 else note + html


def _language_notes(html: str, page, config) -> str:
    """In another language than English: the solutions note in it; over a page shown in English, a note
    saying so; over a translation whose English page changed since, a note and a link to the English."""
    lang = _build_language(config)
    if lang == "en":
        return html
    strings = config.extra.get("strings", {})
    html = html.replace(escape(WITHHELD_TITLE, quote=False), escape(strings["solutions_withheld"], quote=False))
    source = page.file.src_uri
    if not source.endswith(f".{lang}.md"):
        return _after_title(html, _note("info", strings["english_only_title"], escape(strings["english_only_text"])))
    english = source[:-len(f".{lang}.md")] + ".md"
    changed = translations.behind(english, lang)
    if changed:
        log.info("Translation %s is behind its English page (%s changed)", source, ", ".join(changed))
        # From /<lang>/lessons/01/ up to the site's root, then down to /lessons/01/.
        depth = 1 if english == "index.md" else english.count("/") + 2
        link = "../" * depth + ("" if english == "index.md" else english[:-3] + "/")
        body = f'{escape(strings["behind_text"])} <a href="{link}" hreflang="en">{escape(strings["behind_link"])}</a>.'
        return _after_title(html, _note("warning", strings["behind_title"], body))
    return html


# After mkdocs-static-i18n has built every language and merged their search entries into one index.
@mkdocs.plugins.event_priority(-110)
def on_post_build(config):
    """One search index per language: a reader searching the Georgian site finds Georgian pages (and the
    pages it shows in English), not every language's copy of each. Pages outside English load theirs from
    /<lang>/search/ (overrides/main.html points the theme's search there)."""
    site = Path(config.site_dir)
    merged = site / "search" / "search_index.json"
    if not merged.exists():
        return
    index = json.loads(merged.read_text(encoding="utf-8"))
    by_language: dict[str, list] = {lang: [] for lang in ("en", *translations.LANGUAGES)}
    for doc in index["docs"]:
        lang, _, rest = doc["location"].partition("/")
        if lang in translations.LANGUAGES:
            by_language[lang].append({**doc, "location": rest})
        else:
            by_language["en"].append(doc)
    for lang, docs in by_language.items():
        if lang != "en" and not docs:
            continue
        target = merged if lang == "en" else site / lang / "search" / "search_index.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        # The stemmers of English and of this language only (lunr has none for Georgian): each one the reader's
        # browser loads makes building the index slower.
        stemmers = [code for code in index["config"]["lang"] if code in ("en", lang)]
        config = {**index["config"], "lang": stemmers or ["en"]}
        target.write_text(json.dumps({**index, "config": config, "docs": docs}, ensure_ascii=False), encoding="utf-8")


# After mkdocs-static-i18n's own on_files (-100), which gives every language the notebooks as plain files.
@mkdocs.plugins.event_priority(-110)
def on_files(files, config):
    """The notebooks are built in English only. In the English build, mkdocs-jupyter wraps them as pages again
    (the i18n plugin's files replaced its wrappers). The other languages' navigation links the English
    notebook page, and their builds would copy the raw .ipynb over that page's HTML: they copy nothing."""
    if _build_language(config) == "en":
        return config.plugins["mkdocs-jupyter"].on_files(files, config)
    for file in files:
        if file.src_uri.endswith(".ipynb"):
            file.copy_file = lambda dirty=False: None
    return files


def on_post_page(output, page, config):
    """A notebook is in English only: on its page, the language switcher's other languages lead to the lesson
    it belongs to (/ka/lessons/01/ for notebooks/01_...), which every language has."""
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    languages = "|".join(translations.LANGUAGES)
    return re.sub(rf'(href="[./]*)({languages})/notebooks/(\d\d)_[^"/]*/"', r'\1\2/lessons/\3/"', output)
