"""The site's translations (docs/*.<lang>.md, built by mkdocs-static-i18n) and what keeps them honest.

A translated page is the English page with its prose in another language. Its code, include lines,
headings' anchors, admonitions and tasks are the English page's, in the same order: `problems()` says
where they differ. It names the English revision it was translated from (`translated_from:` in its front
matter, a git commit); `behind()` says whether the English sources changed since.

    python -m coursekit.translations skeleton lessons/01.md ka   # the English page, ready to translate
    python -m coursekit.translations check                       # every translation, against its English
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import markdown
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

LANGUAGES = {"ka": "Georgian", "hu": "Hungarian", "ru": "Russian", "ko": "Korean"}
# The pages every language translates; the others are shown in English, with a note (mkdocs_hooks.py).
PAGES = ["index.md", "setup.md", "checker.md", "glossary.md",
         "lessons/01.md", "lessons/02.md", "lessons/03.md", "lessons/04.md"]
# A translated lesson page may end with this section: the checker's common messages, explained.
APPENDIX_ANCHOR = "checker-messages"

INCLUDE = re.compile(r'^(?P<indent>\s*)--8<-- "(?P<path>[^":]+)(?::(?P<section>[^"]*))?"\s*$')
# Prose the translation carries in its own words: a lesson's README and its hints.
PROSE_INCLUDE = re.compile(r"^lessons/[^/]+/(README|hints)\.md$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
ADMONITION = re.compile(r'^\s*(?P<marker>!!!|\?\?\?\+?)\s+(?P<kind>[\w-]+)')
FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n", re.S)


def translation_path(page: str, lang: str) -> Path:
    return DOCS / re.sub(r"\.md$", f".{lang}.md", page)


def _section(lines: list[str], section: str) -> list[str]:
    """A snippet include's part of a file: `name` (between its start/end markers) or `first:last` lines."""
    if not section:
        return lines
    if re.fullmatch(r"\d*:\d*", section):
        first, last = section.split(":")
        return lines[int(first or 1) - 1:int(last) if last else None]
    start = next(i for i, line in enumerate(lines) if f"[start:{section}]" in line)
    end = next(i for i, line in enumerate(lines) if f"[end:{section}]" in line)
    return lines[start + 1:end]


def expand_prose(text: str, sources: list[Path] | None = None) -> str:
    """The page with its prose includes (README, hints) written out, indented like the include line."""
    out = []
    for line in text.splitlines():
        match = INCLUDE.match(line)
        if match and PROSE_INCLUDE.match(match["path"]):
            path = ROOT / match["path"]
            if sources is not None and path not in sources:
                sources.append(path)
            included = _section(path.read_text(encoding="utf-8").splitlines(), match["section"] or "")
            inner = expand_prose("\n".join(included), sources).splitlines()
            out.extend(match["indent"] + l if l.strip() else "" for l in inner)
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def english_sources(page: str) -> list[Path]:
    sources = [DOCS / page]
    expand_prose((DOCS / page).read_text(encoding="utf-8"), sources)
    return sources


def english_text(page: str) -> str:
    return expand_prose((DOCS / page).read_text(encoding="utf-8"))


def split_front_matter(text: str) -> tuple[dict, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    return yaml.safe_load(match["yaml"]) or {}, text[match.end():]


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=["toc", "attr_list", "admonition", "md_in_html", "tables",
                                         "pymdownx.details", "pymdownx.superfences"])


def heading_anchors(text: str) -> list[tuple[int, str]]:
    """(level, id) of every heading, as the site's toc extension makes them."""
    md = _markdown()
    md.convert(text)

    def walk(tokens):
        for token in tokens:
            yield token["level"], token["id"]
            yield from walk(token["children"])
    return list(walk(md.toc_tokens))


@dataclass
class Structure:
    headings: list[tuple[int, str]] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    code_blocks: list[str] = field(default_factory=list)
    admonitions: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


def structure(text: str) -> Structure:
    """What a translation must keep: code, include lines, heading anchors, admonitions, tasks."""
    found = Structure(headings=heading_anchors(text))
    block: list[str] | None = None
    fence = ""
    for line in text.splitlines():
        if block is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                found.code_blocks.append("\n".join(block))
                block = None
            else:
                block.append(line.strip())
                if INCLUDE.match(line):
                    found.includes.append(line.strip())
            continue
        if match := FENCE.match(line):
            fence, block = match["fence"], [line.strip()]
            continue
        if match := INCLUDE.match(line):
            found.includes.append(line.strip())
        elif match := ADMONITION.match(line):
            found.admonitions.append(match["kind"])
    found.tasks = [anchor for level, anchor in found.headings if level == 3 and re.match(r"task-\d+-", anchor)]
    return found


def problems(page: str, lang: str) -> list[str]:
    """How the translation of `page` differs from its English source in what must stay the same."""
    path = translation_path(page, lang)
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    found = []
    if not meta.get("translated_from"):
        found.append("its front matter names no `translated_from:` English revision")
    english = structure(english_text(page))
    translated = structure(body)
    if page.startswith("lessons/"):
        # The appendix's own code (the messages it explains) is not the English page's.
        appendix_at = body.find(f"{{#{APPENDIX_ANCHOR}}}")
        if appendix_at >= 0:
            translated = structure(body[:body.rfind("\n", 0, appendix_at) + 1])
    for name in ("headings", "includes", "code_blocks", "admonitions", "tasks"):
        want, got = getattr(english, name), getattr(translated, name)
        if want != got:
            found.append(f"{name} differ from the English page: {_first_difference(want, got)}")
    return found


def _first_difference(want: list, got: list) -> str:
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return f"#{i + 1} is {_short(b)} where English has {_short(a)}"
    if len(want) > len(got):
        return f"{len(want) - len(got)} missing after #{len(got)}, the first: {_short(want[len(got)])}"
    return f"{len(got) - len(want)} more than English, the first extra: {_short(got[len(want)])}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


@lru_cache(maxsize=None)
def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def behind(page: str, lang: str) -> list[str] | None:
    """The English sources changed since the revision the translation names; None if git cannot tell."""
    meta, _ = split_front_matter(translation_path(page, lang).read_text(encoding="utf-8"))
    revision = str(meta.get("translated_from") or "")
    if not revision or _git("cat-file", "-e", f"{revision}^{{commit}}").returncode != 0:
        return None
    sources = [str(path.relative_to(ROOT)) for path in english_sources(page)]
    diff = _git("diff", "--name-only", revision, "--", *sources)
    if diff.returncode != 0:
        return None
    return diff.stdout.split()


def translations() -> list[tuple[str, str]]:
    return [(page, lang) for lang in LANGUAGES for page in PAGES if translation_path(page, lang).exists()]


def skeleton(page: str, revision: str) -> str:
    """The English page, prose includes written out, every heading given its English anchor."""
    text = english_text(page)
    anchors = iter(heading_anchors(text))
    out, in_code = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and re.match(r"^#{1,6}\s", line):
            _, anchor = next(anchors)
            line = f"{line} {{#{anchor}}}"
        # One folder deeper (/ka/lessons/01/ for /lessons/01/): a raw HTML picture's path climbs one more level.
        line = re.sub(r'\b(src|srcset)="((?:\.\./)*)img/', r'\1="../\2img/', line)
        out.append(line)
    return f"---\ntranslated_from: {revision}\n---\n" + "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["skeleton"] and len(argv) == 3:
        revision = _git("rev-parse", "HEAD").stdout.strip()
        sys.stdout.write(skeleton(argv[1], revision))
        return 0
    if argv[:1] == ["check"]:
        langs = argv[1:] or list(LANGUAGES)
        failed = 0
        for page, lang in translations():
            if lang not in langs:
                continue
            found = problems(page, lang)
            late = behind(page, lang)
            status = "ok" if not found else "DIFFERS"
            print(f"{lang} {page}: {status}" + (f"; behind English ({', '.join(late)})" if late else ""))
            for problem in found:
                print(f"    {problem}")
            failed += bool(found)
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
