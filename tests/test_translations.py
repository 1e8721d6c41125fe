"""The site's translations (coursekit/translations.py): each keeps its English page's code, includes, anchors,
admonitions and tasks; the site in every language builds, says in the reader's language what is still in
English, and searches that language's pages. A translation behind its English page is a warning, not a
failure: it shows on the site, and here in the warnings summary."""

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from coursekit import translations
from coursekit.translations import LANGUAGES, PAGES, translation_path

ROOT = Path(__file__).resolve().parent.parent
LESSON_FOLDERS = {f"lessons/{path.name[:2]}.md": path for path in (ROOT / "lessons").iterdir() if path.is_dir()}


class _MkdocsYaml(yaml.SafeLoader):
    """mkdocs.yml as plain data: its tags (!ENV, !relative, !!python/name) read as the values they tag."""


_MkdocsYaml.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                                  if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node))
_MkdocsYaml.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def _site_strings() -> dict[str, dict]:
    """Each language's own words (mkdocs.yml: the i18n plugin's languages, extra.strings)."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_MkdocsYaml)
    i18n = next(plugin["i18n"] for plugin in config["plugins"] if isinstance(plugin, dict) and "i18n" in plugin)
    return {lang["locale"]: (lang.get("extra") or config["extra"])["strings"] for lang in i18n["languages"]}


STRINGS = _site_strings()

pytestmark = pytest.mark.xdist_group("translations")

EVERY_TRANSLATION = [pytest.param(page, lang, id=f"{lang}-{page}") for lang in LANGUAGES for page in PAGES]


class TranslationBehind(UserWarning):
    """The English page changed after the revision its translation names."""


@pytest.mark.parametrize(("page", "lang"), EVERY_TRANSLATION)
def test_the_translation_keeps_the_english_pages_code_includes_anchors_and_tasks(page, lang):
    path = translation_path(page, lang)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: every language translates {', '.join(PAGES)}"
    problems = translations.problems(page, lang)
    assert not problems, (f"{path.relative_to(ROOT)} differs from its English page {page}:\n  " + "\n  ".join(problems)
                          + f"\n(.venv/bin/python -m coursekit.translations skeleton {page} {lang} prints the English "
                            "with the anchors to keep)")


@pytest.mark.parametrize(("mistake", "find", "replace", "named"), [
    ("a line of output translated", "The server restarts by itself when you save a file.",
     "Сервер перезапускается сам, когда вы сохраняете файл.", "code_blocks differ"),
    ("an include line changed", '--8<-- "lessons/01_http_vs_websocket/basics/hello.py:wsgi_hello"',
     '--8<-- "lessons/01_http_vs_websocket/basics/hello.py"', "includes differ"),
    ("a heading's anchor dropped", " {#the-handshake}", "", "headings differ"),
    ("a task left out", "### ", "#### ", "tasks differ"),
    ("a hint fold turned into a note", '??? tip "', '!!! note "', "admonitions differ"),
])
def test_a_translation_that_changed_what_must_stay_is_named(tmp_path, monkeypatch, mistake, find, replace, named):
    original = translation_path("lessons/01.md", "ru").read_text(encoding="utf-8")
    assert find in original, mistake
    fake = tmp_path / "01.ru.md"
    fake.write_text(original.replace(find, replace, 1 if mistake != "a task left out" else -1), encoding="utf-8")
    monkeypatch.setattr(translations, "translation_path", lambda page, lang: fake)
    assert any(problem.startswith(named) for problem in translations.problems("lessons/01.md", "ru")), mistake


@pytest.mark.parametrize(("page", "lang"), EVERY_TRANSLATION)
def test_the_translation_names_the_english_revision_it_was_made_from(page, lang):
    meta, _ = translations.split_front_matter(translation_path(page, lang).read_text(encoding="utf-8"))
    revision = str(meta.get("translated_from", ""))
    assert re.fullmatch(r"[0-9a-f]{7,40}", revision), f"translated_from: {revision!r} is not a git commit"
    changed = translations.behind(page, lang)
    if changed is None:
        warnings.warn(TranslationBehind(f"{lang} {page}: git cannot tell whether {revision[:10]} is behind "
                                        "(no such commit in this clone)"))
    elif changed:
        warnings.warn(TranslationBehind(f"{lang} {page} is behind its English page: {', '.join(changed)} changed "
                                        f"since {revision[:10]} (git diff {revision[:10]} -- {' '.join(changed)})"))


def test_behind_names_the_english_files_changed_since_the_translations_revision(tmp_path, monkeypatch):
    """The warning's mechanism, on a revision where the English set-up page was different: the one before
    the last change to docs/setup.md."""
    history = subprocess.run(["git", "log", "-n", "2", "--format=%H", "--", "docs/setup.md"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30).stdout.split()
    assert len(history) == 2, "this test needs the repository's history (a full git clone)"
    before_last_change = history[1]
    fake = tmp_path / "setup.xx.md"
    monkeypatch.setattr(translations, "translation_path", lambda page, lang: fake)
    fake.write_text(f"---\ntranslated_from: {before_last_change}\n---\n# x\n", encoding="utf-8")
    assert translations.behind("setup.md", "xx") == ["docs/setup.md"]
    fake.write_text(f"---\ntranslated_from: {history[0]}\n---\n# x\n", encoding="utf-8")
    assert translations.behind("setup.md", "xx") == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", [page for page in PAGES if page.startswith("lessons/")])
def test_the_lesson_page_explains_real_checker_messages_in_the_readers_language(page, lang):
    """The appendix quotes each message verbatim, as the lesson's tests, mistakes or the course tool print it."""
    text = translation_path(page, lang).read_text(encoding="utf-8")
    appendix = text.partition(f"{{#{translations.APPENDIX_ANCHOR}}}")[2]
    items = re.findall(r"^- `([^`]+)`", appendix, re.MULTILINE)
    assert len(items) >= 5, f"{translation_path(page, lang).name}: the checker-messages section explains {len(items)} messages"
    sources = [*LESSON_FOLDERS[page].rglob("*.py"), *LESSON_FOLDERS[page].rglob("*.toml"), *LESSON_FOLDERS[page].rglob("*.js"),
               *LESSON_FOLDERS[page].rglob("*.html"), *(ROOT / "coursekit").glob("*.py")]
    corpus = "\n".join(path.read_text(encoding="utf-8") for path in sources if "test-artifacts" not in path.parts)
    unknown = [item for item in items if item not in corpus]
    assert not unknown, f"{translation_path(page, lang).name} quotes messages nothing in the course prints: {unknown}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_glossary_gives_each_term_in_english_first(lang):
    english = re.findall(r"^### (.+)$", (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8"), re.MULTILINE)
    translated = re.findall(r"^### (.+?) \{#", translation_path("glossary.md", lang).read_text(encoding="utf-8"),
                            re.MULTILINE)
    assert len(english) == len(translated)
    wrong = [(en, tr) for en, tr in zip(english, translated) if not tr.startswith(en)]
    assert not wrong, f"glossary.{lang}.md: these headings do not begin with the English term: {wrong}"


# --- the built site -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-languages")
    env = {**os.environ, "COURSE_REUSE_NOTEBOOK_OUTPUTS": "1", "NO_MKDOCS_2_WARNING": "1"}
    env.pop("COURSE_SITE", None)  # the public edition, the one published
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def built(site: Path, lang: str, page: str) -> Path:
    folder = "" if page == "index.md" else page[:-3] + "/"
    return site / ("" if lang == "en" else f"{lang}/") / folder / "index.html"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_translated_page_is_served_in_its_language(site, lang):
    """(Its pictures are checked with every other page's, by test_site's link test.)"""
    for page in PAGES:
        html = built(site, lang, page).read_text(encoding="utf-8")
        assert f'<html lang="{lang}"' in html, f"/{lang}/ {page}: not marked as {LANGUAGES[lang]}"
        for other in ("en", *LANGUAGES):
            assert f'hreflang="{other}"' in html, f"/{lang}/ {page}: the language switcher has no {other}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_page_still_in_english_says_so_in_the_readers_language(site, lang):
    strings = STRINGS[lang]
    english_only = built(site, lang, "final/protocol.md").read_text(encoding="utf-8")
    assert strings["english_only_title"] in english_only
    translated = built(site, lang, "glossary.md").read_text(encoding="utf-8")
    assert strings["english_only_title"] not in translated
    lesson = built(site, lang, "lessons/01.md").read_text(encoding="utf-8")
    assert strings["solutions_withheld"] in lesson, f"/{lang}/lessons/01/: the solutions note is not in {LANGUAGES[lang]}"
    assert f">{strings['banner_setup']}</a>" in lesson


def test_each_language_searches_its_own_pages(site):
    english = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [doc for doc in english["docs"] if doc["location"].split("/")[0] in LANGUAGES]
    for lang in LANGUAGES:
        index = json.loads((site / lang / "search" / "search_index.json").read_text(encoding="utf-8"))
        locations = {doc["location"].split("#")[0] for doc in index["docs"]}
        assert {"lessons/01/", "glossary/", "final/protocol/"} <= locations, f"/{lang}/search/: {sorted(locations)[:8]}"


@pytest.fixture(scope="module")
def served_site(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def glossary_term(lang: str, english: str) -> str:
    """The translation of a glossary term, as the language's glossary heading gives it."""
    text = translation_path("glossary.md", lang).read_text(encoding="utf-8")
    return re.search(rf"^### {re.escape(english)} · (.+?) \{{#", text, re.MULTILINE)[1].split()[0]


def search(page, word: str, lang: str, deadline_s: float = 60) -> None:
    """Type `word` into the search box, key by key as a reader does: the theme reads the box on each key-up
    (and when its search worker becomes ready), not on a value set from outside."""
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially(word)
    # Letters no keyboard layout here has (Georgian, Korean) are inserted without key events; a reader's
    # input method sends them. One key-up that changes nothing stands in for it.
    page.keyboard.press("End")
    try:
        page.wait_for_selector(".md-search-result__item", timeout=deadline_s * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"searching {word!r} on the {lang} site: no result within {deadline_s:g} s "
                             f"({page.inner_text('.md-search-result__meta')!r})") from None


@pytest.mark.timeout(120)
def test_the_search_box_finds_a_term_in_each_language(browser, served_site):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        for lang in ("en", *LANGUAGES):
            word = "consumer" if lang == "en" else glossary_term(lang, "Consumer")
            page.goto(f"{served_site}/{'' if lang == 'en' else lang + '/'}")
            search(page, word, lang)
            hrefs = [link.get_attribute("href") for link in page.locator(".md-search-result__item a").all()]
            elsewhere = [href for href in hrefs for other in LANGUAGES
                         if other != lang and href.startswith(f"{served_site}/{other}/")]
            home = f"{served_site}/{'' if lang == 'en' else lang + '/'}"
            assert hrefs and not elsewhere and all(href.startswith(home) for href in hrefs), (
                f"searching {word!r} on the {lang} site found {len(hrefs)} results, "
                f"{len(elsewhere)} in other languages: {(elsewhere or hrefs)[:4]}")
    finally:
        page.close()
