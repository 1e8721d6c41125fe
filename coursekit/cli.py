"""`course`: the learner's loop. list, start, run, check, hint, watch, reset."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from . import hints, manifest, starter
from .manifest import Course, Lesson
from .results import results_v3
from .runner import RunResult, run_tests
from .state import State

PASS, FAIL = "✓", "✗"


def say(text: str = "") -> None:
    print(text, flush=True)


# --- list --------------------------------------------------------------------------------------

def cmd_list(course: Course, args: argparse.Namespace) -> int:
    state = State.load(course.workspace)
    for lesson in course.lessons:
        done = sum(state.is_finished(lesson.id, task.id) for task in lesson.tasks)
        marker = "▶" if lesson.id == state.current else " "
        started = "" if course.workspace_copy(lesson).exists() else "  (not started)"
        say(f"{marker} {lesson.id}  {lesson.title}  [{done}/{len(lesson.tasks)} tasks]{started}")
        if lesson.id == (state.current or course.lessons[0].id) or args.all:
            for task in lesson.tasks:
                say(f"      {PASS if state.is_finished(lesson.id, task.id) else '·'} {task.label}")
    if state.current is None:
        say(f"\nBegin with: course start {course.lessons[0].id}")
    return 0


# --- start / reset -----------------------------------------------------------------------------

def files_to_edit(lesson: Lesson) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for region in starter.lesson_regions(lesson):
        tasks = found.setdefault(str(region.path.relative_to(lesson.folder)), [])
        if region.task not in tasks:
            tasks.append(region.task)
    return dict(sorted(found.items(), key=lambda item: min(item[1])))


def cmd_start(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    copy = course.workspace_copy(lesson)
    state = State.load(course.workspace)
    if copy.exists():
        say(f"Lesson {lesson.id} is already started in {display(copy)}; your work there is untouched.")
        say(f"To start it over: course reset {lesson.id}")
    else:
        starter.write_starter(lesson, copy)
        say(f"Lesson {lesson.id}: {lesson.title}")
        say(f"Your copy is in {display(copy)}. The lesson text is its README.md (also on the site).\n")
        say("Files to edit:")
        for path, tasks in files_to_edit(lesson).items():
            say(f"  {path:<40} task {', '.join(map(str, tasks))}")
    state.current = lesson.id
    state.save()
    say(f"\nNext: course check {lesson.id}   (course run {lesson.id} serves your copy; course hint {lesson.id} helps)")
    return 0


def move_to_trash(course: Course, path: Path) -> Path:
    trash = course.workspace / ".trash" / datetime.now().strftime("%Y%m%d-%H%M%S")
    target = trash / path.relative_to(course.workspace)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))
    return target


def cmd_reset(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    copy = course.workspace_copy(lesson)
    if args.file is None:
        if copy.exists():
            say(f"Your previous copy is kept in {display(move_to_trash(course, copy))}")
        starter.write_starter(lesson, copy)
        say(f"Lesson {lesson.id} starts over in {display(copy)}.")
        return 0
    relative = Path(args.file)
    if relative.is_absolute() or not (lesson.folder / relative).is_file():
        say(f"Lesson {lesson.id} has no file {args.file}. Give a path inside the lesson, e.g. realtime/echo.py")
        return 2
    target = copy / relative
    if target.exists():
        say(f"Your previous version is kept in {display(move_to_trash(course, target))}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(starter.starter_file_text(lesson, relative))
    say(f"{relative} is back to its starter version.")
    return 0


# --- check -------------------------------------------------------------------------------------

def restore_tests(lesson: Lesson, copy: Path) -> None:
    """The lesson's own tests, whatever the learner did to their copy of them."""
    tests = copy / "tests"
    if tests.exists():
        shutil.rmtree(tests)
    shutil.copytree(lesson.folder / "tests", tests, ignore=starter.IGNORED)
    for config in ("pytest.ini", "conftest.py"):
        if (lesson.folder / config).exists():
            shutil.copy2(lesson.folder / config, copy / config)


def checked_folder(course: Course, lesson: Lesson, args: argparse.Namespace) -> Path | None:
    if args.solution:
        return lesson.folder
    folder = Path(args.path).resolve() if args.path else course.workspace_copy(lesson)
    if not folder.exists():
        say(f"Nothing to check yet: {display(folder)} does not exist. Run: course start {lesson.id}")
        return None
    restore_tests(lesson, folder)
    return folder


def report(lesson: Lesson, run: RunResult, state: State | None, only: tuple[int, ...] = ()) -> int:
    """Print the verdict; record progress in `state` when given. `only`: the tasks that were run."""
    say(f"Lesson {lesson.id}: {lesson.title}")
    if run.error:
        say(f"\n{FAIL} Nothing could be checked. {run.error}")
        say("\nFix the error above (often a typo or a broken import), then check again.")
        return 2
    passing = set()
    for task in lesson.tasks:
        tests = run.tests_of(task.id)
        if not tests:
            continue
        good = sum(test.status == "pass" for test in tests)
        ok = run.task_passes(task.id)
        passing |= {task.id} if ok else set()
        say(f"  {PASS if ok else FAIL} {task.label}  ({good}/{len(tests)} tests)")
    if state is not None:
        state.record(lesson.id, passing)
        state.save()
    failure = run.first_failure()
    if failure is None:
        if only:
            names = ", ".join(map(str, only))
            say(f"\nTask {names} passes. `course check {lesson.id}` gives the whole lesson's verdict.")
        else:
            say(f"\nAll {len(lesson.tasks)} tasks pass. Lesson {lesson.id} is done.")
        return 0
    say(f"\nFirst failure: {failure.nodeid}\n")
    skipped = failure.message.startswith("Skipped:")
    say(failure.message if skipped else (failure.longrepr.rstrip() or failure.message))
    if skipped:
        say("A skipped test does not count as passed: fix what the message says, then check again.")
    say(f"\nNext: read README.md, task {failure.task_id}, or run: course hint {lesson.id} {failure.task_id}")
    if not only:
        say(f"{len(passing)} of {len(lesson.tasks)} tasks done.")
    return 1


def cmd_check(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    folder = checked_folder(course, lesson, args)
    if folder is None:
        return 2
    run = run_tests(folder, tasks=tuple(args.task))
    if args.json:
        document = json.dumps(results_v3(run), indent=2, ensure_ascii=False)
        if args.output:
            Path(args.output).write_text(document + "\n", encoding="utf-8")
        else:
            say(document)
        return 0  # like Exercism's runners: the verdict is in the JSON
    own_workspace = not (args.solution or args.path or args.task)
    return report(lesson, run, State.load(course.workspace) if own_workspace else None, only=tuple(args.task))


# --- hint --------------------------------------------------------------------------------------

def cmd_hint(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    task_id = args.task
    if task_id is None:
        state = State.load(course.workspace)
        task_id = next((task.id for task in lesson.tasks if not state.is_finished(lesson.id, task.id)), None)
        if task_id is None:
            say(f"Every task of lesson {lesson.id} passes. The general notes:\n")
    else:
        lesson.task(task_id)
    say(hints.hint(lesson.hints_file, task_id))
    return 0


# --- watch -------------------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[Path, float]:
    skipped = {"tests", "__pycache__", "test-artifacts", ".pytest_cache"}
    return {
        path: path.stat().st_mtime
        for path in folder.rglob("*")
        if path.is_file() and not skipped.intersection(path.relative_to(folder).parts)
    }


def cmd_watch(course: Course, args: argparse.Namespace) -> int:
    state = State.load(course.workspace)
    wanted = args.lesson or state.current
    if wanted is None:
        say("No lesson started yet. Run: course start 01")
        return 2
    lesson = course.lesson(wanted)
    copy = course.workspace_copy(lesson)
    if not copy.exists():
        say(f"Run `course start {lesson.id}` first.")
        return 2
    say(f"Watching {display(copy)}: every save re-runs the check. Ctrl-C to stop.")
    seen = None
    try:
        while True:
            current = snapshot(copy)
            if current != seen:
                say("\n" + "─" * 72)
                restore_tests(lesson, copy)
                verdict = report(lesson, run_tests(copy), State.load(course.workspace))
                if verdict == 0:
                    nxt = next_lesson(course, lesson)
                    say(f"When you are ready: course start {nxt.id}" if nxt else "That was the last lesson.")
                seen = current  # what was checked; a save during the check triggers the next one
            time.sleep(args.interval)  # polling works on every file system, with or without change events
    except KeyboardInterrupt:
        say("\nStopped watching.")
        return 0


def next_lesson(course: Course, lesson: Lesson) -> Lesson | None:
    index = course.lessons.index(lesson)
    return course.lessons[index + 1] if index + 1 < len(course.lessons) else None


# --- run ---------------------------------------------------------------------------------------

def cmd_run(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    folder = lesson.folder if args.solution else course.workspace_copy(lesson)
    if not folder.exists():
        say(f"{display(folder)} does not exist. Run: course start {lesson.id}  (or add --solution)")
        return 2
    say(f"Lesson {lesson.id} ({'the solution' if args.solution else 'your copy'}): open http://127.0.0.1:{args.port}/")
    say("The server restarts by itself when you save a file. Ctrl-C stops it.\n")
    # daphne is first in the lesson's INSTALLED_APPS, so this runserver is daphne's ASGI server.
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}"]
    try:
        if lesson.uses_database:
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
                           cwd=folder, check=True)
        # The server and its autoreloader child get a process group of their own, so that Ctrl-C
        # or a SIGTERM to `course run` stops both of them, never only the parent.
        server = subprocess.Popen(command, cwd=folder, start_new_session=True)
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: os.killpg(server.pid, signal.SIGTERM))
        server.wait()
        return 0
    except subprocess.CalledProcessError:
        say("The database could not be migrated: see the error above.")
        return 2
    except KeyboardInterrupt:
        return 0


# --- plumbing ----------------------------------------------------------------------------------

def display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="course", description="Django Channels, step by step: the course tool.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="lessons, tasks and your progress")
    listing.add_argument("--all", action="store_true", help="show the tasks of every lesson")
    listing.set_defaults(handler=cmd_list)

    start = commands.add_parser("start", help="copy a lesson into workspace/, with stubs to fill in")
    start.add_argument("lesson")
    start.set_defaults(handler=cmd_start)

    run = commands.add_parser("run", help="serve your copy of a lesson with daphne")
    run.add_argument("lesson")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--solution", action="store_true", help="serve the lesson's solution instead")
    run.set_defaults(handler=cmd_run)

    check = commands.add_parser("check", help="run a lesson's tests against your copy; a verdict per task")
    check.add_argument("lesson")
    check.add_argument("--task", type=int, action="append", default=[], metavar="N", help="only task N")
    check.add_argument("--json", action="store_true", help="print Exercism results.json (version 3)")
    check.add_argument("--output", metavar="FILE", help="with --json: write it to FILE")
    check.add_argument("--path", metavar="DIR", help="check this folder instead of your workspace copy")
    check.add_argument("--solution", action="store_true", help="check the lesson's own solution")
    check.set_defaults(handler=cmd_check)

    hint = commands.add_parser("hint", help="one hint section: the next unfinished task's, or TASK's")
    hint.add_argument("lesson")
    hint.add_argument("task", type=int, nargs="?")
    hint.set_defaults(handler=cmd_hint)

    watch = commands.add_parser("watch", help="re-check on every save (never moves on by itself)")
    watch.add_argument("lesson", nargs="?")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between looks (default 1)")
    watch.set_defaults(handler=cmd_watch)

    reset = commands.add_parser("reset", help="back to the starter: a whole lesson, or one FILE of it")
    reset.add_argument("lesson")
    reset.add_argument("file", nargs="?")
    reset.set_defaults(handler=cmd_reset)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        course = manifest.load()
        return args.handler(course, args)
    except (KeyError, FileNotFoundError, starter.MarkerError) as problem:
        say(str(problem).strip("'\""))
        return 2


if __name__ == "__main__":
    sys.exit(main())
