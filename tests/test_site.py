"""The site builds strictly, and its lesson pages show the lessons' real files; every command a page
shows exists and prints what the page says; every internal link and anchor resolves."""

import argparse
import contextlib
import functools
import io
import json
import os
import re
import shlex
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from html import unescape
from html.parser import HTMLParser
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One worker runs this module: its tests share one site build.
pytestmark = pytest.mark.xdist_group("site")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # The notebooks ran once already, in this suite (coursekit.notebook_outputs kept their outputs): reuse them.
    # The teacher's edition: these tests check the folded solutions too (test_site_flavours checks the public one).
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COURSE_REUSE_NOTEBOOK_OUTPUTS": "1", "COURSE_SITE": "teacher"})
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
    # Code files; the hints (markdown, rendered) have a test of their own.
    included = [include for include in re.findall(r'^\s*--8<-- "([^"]+)"', readme, flags=re.MULTILINE)
                if not include.partition(":")[0].endswith(".md")]
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


def visible_text(text: str, markdown: bool = False) -> str:
    """What a reader sees, without its markup (HTML tags and entities, or markdown's list marks,
    `code` and *emphasis*) and without whitespace, which markup moves around."""
    if markdown:
        text = re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", text, flags=re.MULTILINE).replace("`", "").replace("*", "")
    else:
        text = unescape(re.sub(r"<[^>]+>", "", text))
    return "".join(text.split())


def test_each_task_shows_its_hints_folded_and_included_from_hints_md(site, lesson):
    """Under each task, a closed `??? tip "Hints for task N"` whose only line includes that task's section
    of hints.md: the page shows what `course hint NN N` prints, and nothing is pasted twice."""
    from coursekit import hints

    readme = (lesson.folder / "README.md").read_text(encoding="utf-8")
    html = (site / "lessons" / lesson.id / "index.html").read_text(encoding="utf-8")
    sections = hints.sections(lesson.hints_file)
    for task in lesson.tasks:
        include = f'--8<-- "{lesson.folder.relative_to(ROOT).as_posix()}/{lesson.hints_file.name}:task{task.id}"'
        block = re.search(rf'^\?\?\? tip "Hints for task {task.id}"\n((?:[ \t]+\S.*\n|\n)*)', readme, re.MULTILINE)
        assert block, f"lesson {lesson.id}'s README has no `??? tip \"Hints for task {task.id}\"` block"
        assert block[1].split() == include.split(), \
            f"lesson {lesson.id}, task {task.id}: the hints block must hold only `{include}`, not pasted hints"
        shown = re.search(rf'<details class="tip">\s*<summary>Hints for task {task.id}</summary>(.*?)</details>',
                          html, re.DOTALL)
        assert shown, f"lesson {lesson.id}'s page shows no closed hints block for task {task.id}"
        section = sections[str(task.id)].split("\n", 1)[1]  # without its `## Task N: ...` heading
        assert visible_text(section, markdown=True) in visible_text(shown[1]), \
            f"lesson {lesson.id}, task {task.id}: the hints on the page differ from hints.md"
        assert "8<" not in shown[1], f"lesson {lesson.id}, task {task.id}: a snippet marker shows in the hints"


def test_each_task_says_what_the_checker_prints_when_it_is_done(lesson):
    """"Done when: `course check NN --task N` prints `✓ Task N: <title>  (k/k tests)`", with the title
    from course.toml and k the number of the task's tests."""
    readme = (lesson.folder / "README.md").read_text(encoding="utf-8")
    tests = collected_tests(lesson.folder)
    for task in lesson.tasks:
        section = re.search(rf"^### Task {task.id}:.*?(?=^##)", readme, re.MULTILINE | re.DOTALL)
        assert section, f"lesson {lesson.id}'s README has no `### Task {task.id}:` section"
        done = re.search(r"^- \*\*Done when:\*\* `course check (\S+) --task (\d+)` prints\s+`(✓ Task .*?)`",
                         section[0], re.MULTILINE)
        assert done, f"lesson {lesson.id}, task {task.id}: no \"Done when: `course check ... --task N` prints `✓ ...`\""
        count = sum(test.task_id == task.id for test in tests)
        assert (done[1], int(done[2]), done[3]) == (lesson.id, task.id, f"✓ {task.label}  ({count}/{count} tests)")


def test_the_lesson_page_opens_with_a_picture_of_what_you_build(site, lesson):
    html = (site / "lessons" / lesson.id / "index.html").read_text(encoding="utf-8")
    article = html[html.index("<article"):]
    picture = re.search(r'<img[^>]*src="([^"]+)"', article)
    assert picture and picture.start() < article.index("<h2"), f"lesson {lesson.id}'s page has no picture above its text"
    assert picture[1].endswith(f"img/lesson-{lesson.id}.png") and (ROOT / "docs" / "img" / f"lesson-{lesson.id}.png").is_file()


def test_next_links_to_the_next_page_and_the_lesson_links_to_its_notebook(site, course, lesson):
    html = (site / "lessons" / lesson.id / "index.html").read_text(encoding="utf-8")
    following = course.lessons[course.lessons.index(lesson) + 1:]
    expected = f"../{following[0].id}/" if following else "../../final/architecture/"
    next_section = html[html.index('<h2 id="next"'):]
    assert re.search(r'<a href="([^"]+)"', next_section)[1] == expected, f"lesson {lesson.id}'s Next is not a link to {expected}"
    notebook = next((ROOT / "notebooks").glob(f"{lesson.id}_*.ipynb"))
    assert f'href="../../notebooks/{notebook.stem}/' in html, f"lesson {lesson.id}'s page does not link to {notebook.name}"


def test_the_mistakes_page_lists_every_catalogued_mistake(site):
    from coursekit import manifest, mistakes

    text = " ".join(page_text(site, "mistakes").split())
    for folder in mistakes.all_folders(manifest.load()):
        for mistake in mistakes.load(folder):
            assert " ".join(mistake.what.replace("`", "").split()) in text, f"{mistake.label} is not on the page"


# --- Every command a page shows exists and prints what the page says ---------------------------
# The pages: docs/**/*.md, the lessons' README.md and hints.md (their site pages include them), the
# notebooks' markdown cells, and the two READMEs a reader of the repository starts from.

@dataclass
class Shown:
    page: str
    line: str  # as the page shows it
    argv: list[str]  # ["make", "run"], ["course", "check", "01"]: the program's path reduced to its name
    output: list[str] | None  # the lines a console block shows under it; None where it shows none
    in_prose: bool  # an inline `code` span: it may name a command without all its arguments

    def __str__(self) -> str:
        return f"{self.page}: `{self.line}`"


FENCED = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                    re.MULTILINE | re.DOTALL)
GAP = {"...", "…"}  # an output line that stands for lines left out
ANY_TEXT = "<the failure's own text>"  # in a simulated `course check`: whatever the page shows there


def pages_with_commands() -> list[tuple[str, str]]:
    pages = [*sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "lessons").glob("*/*.md")),
             ROOT / "README.md", ROOT / "final_project" / "README.md"]
    found = [(str(page.relative_to(ROOT)), page.read_text(encoding="utf-8")) for page in pages]
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        markdown = "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
        found.append((str(notebook.relative_to(ROOT)), markdown))
    return found


def invocations(line: str) -> list[list[str]]:
    """The `make` and `course` commands in one shell line (after `&&`, `;`, `|`, `(`..., and VAR=value)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # a quote closed on a later line (python -c '...'): no make or course there
        return []
    commands, current = [], []
    for token in [*tokens, ";"]:
        if token and set(token) <= set("&|;()<>"):
            while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):
                current.pop(0)
            if current and Path(current[0]).name in ("make", "course"):
                commands.append([Path(current[0]).name, *current[1:]])
            current = []
        else:
            current.append(token)
    return commands


def shown_commands() -> list[Shown]:
    shown = []
    for page, text in pages_with_commands():
        for block in FENCED.finditer(text):
            info = block["info"].strip().split(" ")[0].lower()
            lines = [line[len(block["indent"]):] for line in block["body"].splitlines()]
            lines = "\n".join(lines).replace("\\\n", " ").splitlines()  # join continued lines
            if info in ("console", "shell-session"):
                starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
                for start, end in zip(starts, [*starts[1:], len(lines)]):
                    output = [line for line in lines[start + 1:end] if line.strip()]
                    for argv in invocations(lines[start][2:]):
                        shown.append(Shown(page, lines[start][2:].strip(), argv, output or None, False))
            elif info in ("bash", "sh", "shell", "yaml", "yml"):
                for line in lines:
                    if info.startswith("y"):  # a workflow: the commands are the values of run/command
                        match = re.match(r"\s*-?\s*(?:run|command|setup-command):\s*(.*)", line)
                        line = match[1].strip("\"'") if match else ""
                    for argv in invocations(line):
                        shown.append(Shown(page, line.strip(), argv, None, False))
        prose = FENCED.sub("", text)
        for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", prose):
            for argv in invocations(span):
                if len(argv) > 1:  # `course` or `make` alone names the tool
                    shown.append(Shown(page, span, argv, None, True))
    return shown


def is_placeholder(word: str) -> bool:
    """NN, N, DIR, FILE: a word the reader replaces."""
    return re.fullmatch(r"[A-Z]+", word) is not None


def make_prints(args: list[str], scratch: Path) -> subprocess.CompletedProcess:
    """What `make ARGS` prints itself, without running anything: make runs each recipe line through
    a stand-in shell that only carries out plain `echo`s (and the .venv is taken as installed).
    Without make (it is optional): whether the Makefile has the targets, and stdout None."""
    if shutil.which("make") is None:
        targets = set(re.findall(r"^([A-Za-z0-9_.-]+)[ \t]*:(?!=)", (ROOT / "Makefile").read_text(), re.MULTILINE))
        missing = [word for word in args if not word.startswith("-") and "=" not in word and word not in targets]
        return subprocess.CompletedProcess(args, 2 if missing else 0, None,
                                           f"make: *** No rule to make target '{missing[0]}'." if missing else "")
    shell = scratch / "echo-only-sh"
    if not shell.exists():
        shell.write_text("#!/bin/sh\n"
                         "case \"$2\" in *'>'*|*'|'*|*';'*|*'&'*|*'$('*|*'`'*) exit 0;; "
                         "echo|echo\\ *) exec /bin/sh -c \"$2\";; esac\n")
        shell.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", *args, f"SHELL={shell}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def course_parser_problem(argv: list[str], in_prose: bool) -> str | None:
    """Why the course tool would refuse these arguments, or None. In prose, a command may be named
    without its required arguments (`course check`): there only its words and options are checked."""
    from coursekit import cli

    parser = cli.parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if argv and argv[0] not in ("-h", "--help"):
        if argv[0] not in subcommands:
            return f"the course tool has no command {argv[0]!r} (it has: {', '.join(subcommands)})"
        options = subcommands[argv[0]]._option_string_actions
        unknown = [word for word in argv[1:] if word.startswith("-") and word.split("=")[0] not in options]
        if unknown:
            return f"`course {argv[0]}` has no option {unknown[0]} (`course {argv[0]} --help` lists them)"
    errors = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
            parser.parse_args(["1" if is_placeholder(word) else word for word in argv])
    except SystemExit as stop:
        required_missing = "the following arguments are required" in errors.getvalue()
        if stop.code and not (in_prose and required_missing):
            return errors.getvalue().strip().splitlines()[-1]
    return None


def course_value_problem(argv: list[str], course) -> str | None:
    """A lesson, task or file the command names that the course does not have."""
    from coursekit import cli

    try:
        args = cli.parser().parse_args(argv)
    except SystemExit:
        return None  # a command named in prose without its arguments
    if not getattr(args, "lesson", None) or is_placeholder(args.lesson):
        return None
    task = getattr(args, "task", None)  # check: a list (--task N ...); hint: a number or None
    try:
        lesson = course.lesson(args.lesson)
        for task_id in task if isinstance(task, list) else [task] if task else []:
            lesson.task(task_id)
    except KeyError as missing:
        return str(missing).strip("'\"")
    file = getattr(args, "file", None)
    if file and not is_placeholder(file) and not (lesson.folder / file).is_file():
        return f"lesson {lesson.id} has no file {file}"
    return None


def test_every_command_a_page_shows_exists(course, tmp_path):
    """`make X` is a target of the Makefile; `course X ...` a command of the course tool, with options
    it has, and the lesson, task and file it names exist."""
    problems, shown = [], shown_commands()
    assert any(command.argv[0] == "make" for command in shown) and any(c.argv[0] == "course" for c in shown)
    for command in shown:
        if command.argv[0] == "make":
            result = make_prints([word for word in command.argv[1:] if not is_placeholder(word.partition("=")[2])],
                                 tmp_path)
            problem = result.stderr.strip().splitlines()[-1] if result.returncode else None
        else:
            problem = course_parser_problem(command.argv[1:], command.in_prose) or \
                course_value_problem(command.argv[1:], course)
        if problem:
            problems.append(f"{command}: {problem}")
    assert not problems, "Commands on the pages that do not work as shown:\n" + "\n".join(problems)


def what_the_page_shows_differs(shown: list[str], printed: list[str], then_runs_a_program: bool) -> str | None:
    """Compare a page's output lines with what the command printed, both without blank lines. `...`
    on the page skips lines. ANY_TEXT in what was printed stands for the page's lines up to its next
    `...`; shown to the end, they must end with what is printed after ANY_TEXT. When the command then
    starts a program (a server), lines after its own are that program's: they are not checked."""
    shown = [" ".join(line.split()) for line in shown]
    printed = [" ".join(line.split()) for line in printed if line.strip()]
    i = at = 0
    skipping = False
    while i < len(shown):
        line = shown[i]
        if line in GAP:
            skipping, i = True, i + 1
            continue
        if skipping:
            if line in printed[at:]:
                at = printed.index(line, at)
            elif ANY_TEXT in printed[at:]:
                at = printed.index(ANY_TEXT, at)
            else:
                return None if then_runs_a_program else f"the page shows {line!r}, which it never prints"
            skipping = False
        if at < len(printed) and printed[at] == ANY_TEXT:
            end = next((k for k in range(i, len(shown)) if shown[k] in GAP), len(shown))
            after = printed[at + 1:]
            ending = shown[max(i, end - len(after)):end]
            if end == len(shown) and ending != after:
                return f"after the failure's text the page shows {ending} where it prints {after}"
            i, at = end, at + 1
            continue
        if at >= len(printed):
            return None if then_runs_a_program else f"the page shows {line!r} after the last line it prints"
        if printed[at] != line:
            return f"the page shows {line!r} where it prints {printed[at]!r}"
        i, at = i + 1, at + 1
    return None


@functools.cache
def collected_tests(folder: Path) -> tuple:
    from coursekit.runner import run_tests

    return tuple(run_tests(folder, collect_only=True).tests)


def course_prints(argv: list[str], shown: list[str], scratch: Path) -> list[str] | None:
    """What `course ARGV` prints to a learner who has just cloned the course (and, for `run` and
    `check`, started the lesson), run in-process. `course run` starts no server; `course check` runs
    no tests: each collected test gets the verdict the page shows for its task, and the first
    failure's own text is left to the page (ANY_TEXT). None: not checked."""
    from coursekit import cli, manifest
    from coursekit.runner import RunResult

    command = argv[0] if argv else ""
    if command == "watch" or "--json" in argv or "--output" in argv:
        return None  # watch never ends; a JSON document is shown in a block of its own

    def tests_as_the_page_shows(folder, tasks=(), **_):
        verdicts = {int(task): (mark, int(passed)) for mark, task, passed in
                    re.findall(r"([✓✗]) Task (\d+):.*\((\d+)/\d+ tests\)", "\n".join(shown))}
        tests, seen = [], {}
        for test in collected_tests(folder):
            if not tasks or test.task_id in tasks:
                mark, passed = verdicts.get(test.task_id, ("✗", 0))
                seen[test.task_id] = number = seen.get(test.task_id, -1) + 1
                status = "pass" if mark == "✓" or number < passed else "fail"
                tests.append(replace(test, status=status, message=ANY_TEXT, longrepr=ANY_TEXT))
        return RunResult(exitstatus=1, tests=tests)

    class NoServer:
        pid = 0

        def __init__(self, *args, **kwargs) -> None:
            pass

        def wait(self) -> int:
            return 0

    no_processes = SimpleNamespace(Popen=NoServer, run=lambda *args, **kwargs: None,
                                   CalledProcessError=subprocess.CalledProcessError)
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(scratch)
        patch.setattr(manifest.Course, "workspace", property(lambda course: scratch / "workspace"))
        patch.setattr(cli, "run_tests", tests_as_the_page_shows)
        patch.setattr(cli, "checked_folder", lambda course, lesson, args: lesson.folder)
        patch.setattr(cli, "subprocess", no_processes)  # cli's own name only: run_tests still works
        patch.setattr(cli, "signal", SimpleNamespace(signal=lambda *args: None, SIGINT=2, SIGTERM=15))
        patch.setenv("COLUMNS", "100")
        if command == "run":
            for lesson in manifest.load(ROOT).lessons:
                (scratch / "workspace" / lesson.name).mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            try:
                cli.main(argv)
            except SystemExit:  # --help
                pass
    return printed.getvalue().splitlines()


def test_every_output_a_page_shows_is_what_the_command_prints(course, tmp_path):
    """Where a console block shows what `make X` or `course X` prints, it prints that. `make` prints its
    own lines (recipe lines and echoes) before the program it starts; `course run` its two lines before
    the server's. What that program or server prints after them is not checked here."""
    with_output = [command for command in shown_commands() if command.output is not None]
    checked_lessons = {lesson.folder for lesson in course.lessons for command in with_output
                       if command.argv[1:3] in (["check", lesson.id], ["check", lesson.name])}
    with ThreadPoolExecutor() as pool:  # collect the lessons' tests side by side
        list(pool.map(collected_tests, checked_lessons))
    checked, problems = 0, []
    for number, command in enumerate(with_output):
        scratch = tmp_path / str(number)
        scratch.mkdir()
        if command.argv[0] == "make":
            result = make_prints(command.argv[1:], scratch)
            printed = None if result.stdout is None else result.stdout.splitlines()  # None: no make here
            then_runs_a_program = True
        else:
            printed = course_prints(command.argv[1:], command.output, scratch)
            then_runs_a_program = command.argv[1] == "run"
        if printed is None:
            continue
        checked += 1
        differs = what_the_page_shows_differs(command.output, printed, then_runs_a_program)
        if differs:
            problems.append(f"{command}: {differs}.\n  It prints:\n    " + "\n    ".join(printed))
    assert checked, "no page shows what a make or course command prints: is the parsing of the pages broken?"
    assert not problems, "Outputs on the pages that the commands do not print:\n" + "\n".join(problems)


# --- Every internal link and anchor on the built site resolves -----------------------------------

class LinksAndIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.pictures: list[str] = []  # <img src>, <source srcset> (its first address)

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        self.ids |= {attributes[key] for key in ("id", "name") if attributes.get(key)}
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        if tag in ("img", "source"):
            self.pictures += [attributes[key].split()[0] for key in ("src", "srcset") if attributes.get(key)]


def test_every_internal_link_and_anchor_on_the_site_resolves(site):
    """href="#id", "page/#id", "../page/": the page exists, and has an element with that id (markdown
    pages and notebook pages alike: mkdocs itself does not check a notebook's table of contents). Every
    picture's src and srcset exists (mkdocs does not check raw HTML's, in any language)."""
    site_url = re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    base_path = urlsplit(site_url[1]).path if site_url else "/"
    pages = {}
    for html in site.rglob("*.html"):
        pages[html] = LinksAndIds()
        pages[html].feed(html.read_text(encoding="utf-8"))
    problems = []
    for html, page in pages.items():
        for attribute, href in [*(("href", href) for href in page.hrefs), *(("src", src) for src in page.pictures)]:
            link = urlsplit(href)
            if link.scheme or link.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            path = unquote(link.path)
            if path.startswith("/"):  # absolute: from the site's root (the 404 page's links)
                if not path.startswith(base_path):
                    problems.append(f"{html.relative_to(site)}: {attribute}=\"{href}\": outside the site ({base_path})")
                    continue
                target = site / path[len(base_path):]
            else:
                target = html.parent / path if path else html
            target = Path(os.path.normpath(target))
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{html.relative_to(site)}: {attribute}=\"{href}\": no such page or file")
            elif link.fragment and target.suffix == ".html" and unquote(link.fragment) not in pages[target].ids:
                problems.append(f"{html.relative_to(site)}: href=\"{href}\": no element with id "
                                f"\"{unquote(link.fragment)}\" on {target.relative_to(site)}")
    assert not problems, "Broken links on the site:\n" + "\n".join(sorted(set(problems)))


def test_no_page_loads_anything_from_another_host(site):
    """The site reads the same offline: no script, stylesheet or font comes from a CDN."""
    for html_file in site.rglob("*.html"):
        html = html_file.read_text(encoding="utf-8")
        for tag, attr in (("script", "src"), ("link", "href")):
            for element in re.findall(rf"<{tag}\b[^>]*>", html):
                if tag == "link" and not re.search(r'rel="(stylesheet|preload|preconnect|modulepreload)"', element):
                    continue
                url = re.search(rf'{attr}="([^"]+)"', element)
                assert not (url and re.match(r"(https?:)?//", url.group(1))), (
                    f"{html_file.relative_to(site)} loads {url.group(1)}: serve it from the site (docs/assets/)")


def test_pages_with_a_diagram_load_mermaid_from_the_site_before_the_theme(site):
    pages = [page for page in site.rglob("index.html") if 'class="mermaid"' in page.read_text(encoding="utf-8")]
    assert pages, "no page has a diagram"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        local, bundle = html.find("assets/javascripts/mermaid-"), html.find("assets/javascripts/bundle.")
        assert 0 <= local < bundle, (f"{page.relative_to(site)}: mermaid is not loaded from the site before the "
                                     "theme's bundle, so the theme fetches it from a CDN (no diagrams offline)")
