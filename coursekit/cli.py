"""`course`: the learner's loop. list, start, run, check, hint, watch, reset."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from . import checksums, hints, manifest, release, starter
from . import grade as grading
from .manifest import Course, Lesson
from .results import results_v3
from .runner import RunResult, run_tests
from .state import State

PASS, FAIL = "✓", "✗"


def say(text: str = "", file=None) -> None:
    print(text, flush=True, file=file)


# --- list --------------------------------------------------------------------------------------

def cmd_list(course: Course, args: argparse.Namespace) -> int:
    state = State.load(course.workspace)
    for lesson in course.lessons:
        done = sum(state.is_finished(lesson.id, task.id) for task in lesson.tasks)
        marker = "▶" if lesson.id == state.current else " "
        started = "" if release.learner_folder(course, lesson).exists() else "  (not started)"
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
    copy = release.learner_folder(course, lesson)
    state = State.load(course.workspace)
    if checksums.is_release(course.root):
        say(f"Lesson {lesson.id}: {lesson.title}\nYour copy is {display(copy)}: edit it there. Still to write:")
        for path, tasks in release.stubbed_files(lesson).items():
            say(f"  {path:<40} task {', '.join(map(str, tasks))}")
    elif copy.exists():
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
    """Move `path` (a file or a folder) into workspace/.trash/<time>/, keeping where it came from."""
    trash = course.workspace / ".trash" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    try:
        kept_as = path.resolve().relative_to(course.workspace.resolve())
    except ValueError:  # a folder outside the workspace (course check --path): keep its full path
        kept_as = Path("outside-workspace", *path.resolve().parts[1:])
    target = trash / kept_as
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))
    return target


def cmd_reset(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    copy = course.workspace_copy(lesson)
    if checksums.is_release(course.root):
        say("In a class repository the starter versions are in git: `git log` shows the first commit, and "
            "`git checkout FIRST_COMMIT -- FILE` brings one back (commit your work first).")
        return 2
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

def same_tree(first: Path, second: Path) -> bool:
    """The same files with the same bytes (caches aside)."""
    def files(root: Path) -> dict[Path, bytes]:
        return {path.relative_to(root): path.read_bytes() for path in root.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    return first.is_dir() and second.is_dir() and files(first) == files(second)


def restore_tests(course: Course, lesson: Lesson, copy: Path) -> list[Path]:
    """The lesson's own tests, whatever the learner did to their copy of them. Whatever differs is
    moved to the workspace trash first, never deleted. Returns where the replaced files went."""
    kept = []
    tests = copy / "tests"
    if not same_tree(tests, lesson.folder / "tests"):
        if tests.exists():
            kept.append(move_to_trash(course, tests))
        shutil.copytree(lesson.folder / "tests", tests, ignore=starter.IGNORED)
    for config in ("pytest.ini", "conftest.py"):
        source, target = lesson.folder / config, copy / config
        if source.exists() and (not target.exists() or target.read_bytes() != source.read_bytes()):
            if target.exists():
                kept.append(move_to_trash(course, target))
            shutil.copy2(source, target)
    return kept


def is_copy_of(lesson: Lesson, folder: Path) -> bool:
    """A folder that holds the lesson's project: its manage.py, and every file a task is written in."""
    needed = [Path("manage.py"), *map(Path, files_to_edit(lesson))]
    return all((folder / path).is_file() for path in needed) and \
        (folder / "manage.py").read_bytes() == (lesson.folder / "manage.py").read_bytes()


def checked_folder(course: Course, lesson: Lesson, args: argparse.Namespace) -> Path | None:
    if args.solution:
        return lesson.folder
    folder = Path(args.path).resolve() if args.path else release.learner_folder(course, lesson)
    if not folder.exists():
        say(f"Nothing to check yet: {display(folder)} does not exist. Run: course start {lesson.id}")
        return None
    if args.path and not is_copy_of(lesson, folder):
        say(f"{display(folder)} is not a copy of lesson {lesson.id}: it lacks the lesson's manage.py or a file "
            f"the tasks are written in ({', '.join(files_to_edit(lesson))}). Nothing was changed in it.")
        return None
    for kept in restore_tests(course, lesson, folder):
        # stderr under --json: stdout is the document
        say(f"The lesson's own tests are back in place; your changed version is kept in {display(kept)}",
            file=sys.stderr if args.json else None)
    return folder


class TaskVerdicts:
    """Prints each task's verdict as soon as its last test ends (the tests run task by task)."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.pending: dict[int, set[str]] = {}
        self.results: dict[int, list[str]] = {}
        self.printed: set[int] = set()

    def __call__(self, event: dict) -> None:
        if "collected" in event:
            for test in event["collected"]:
                self.pending.setdefault(test["task_id"], set()).add(test["nodeid"])
            return
        task_id = event["task_id"]
        self.pending.get(task_id, set()).discard(event["done"])
        self.results.setdefault(task_id, []).append(event["status"])
        if not self.pending.get(task_id) and task_id in self.pending:
            self.print_task(task_id, self.results[task_id])

    def print_task(self, task_id: int, statuses: list[str]) -> None:
        if task_id in self.printed or task_id is None:
            return
        self.printed.add(task_id)
        good = statuses.count("pass")
        ok = bool(statuses) and good == len(statuses)
        say(f"  {PASS if ok else FAIL} {self.lesson.task(task_id).label}  ({good}/{len(statuses)} tests)")


def report(lesson: Lesson, run: RunResult, state: State | None, only: tuple[int, ...] = (),
           verdicts: TaskVerdicts | None = None) -> int:
    """Print the verdict (the task lines `verdicts` has not printed yet, then the first failure);
    record progress in `state` when given. `only`: the tasks that were run."""
    if run.error:
        say(f"\n{FAIL} Nothing could be checked. {run.error}")
        say("\nFix the error above (often a typo or a broken import), then check again.")
        return 2
    verdicts = verdicts or TaskVerdicts(lesson)
    passing = set()
    for task in lesson.tasks:
        tests = run.tests_of(task.id)
        if not tests:
            continue
        verdicts.print_task(task.id, [test.status for test in tests])
        passing |= {task.id} if run.task_passes(task.id) else set()
    if state is not None:
        state.record(lesson.id, passing, checked={test.task_id for test in run.tests})
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


def check_and_report(course: Course, lesson: Lesson, folder: Path, tasks: tuple[int, ...],
                     state: State | None) -> int:
    say(f"Lesson {lesson.id}: {lesson.title}")
    verdicts = TaskVerdicts(lesson)
    run = run_tests(folder, tasks=tasks, on_event=verdicts)
    return report(lesson, run, state, only=tasks, verdicts=verdicts)


def write_results(results: dict, args: argparse.Namespace) -> int:
    document = json.dumps(results, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(document + "\n", encoding="utf-8")
    else:
        say(document)
    return 0  # like Exercism's runners: the verdict is in the JSON


def report_tampering(message: str, args: argparse.Namespace) -> int:
    if args.json:
        return write_results({"version": 3, "status": "error", "message": message, "tests": []}, args)
    say(f"{FAIL} {message}")
    return 2


def cmd_check(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    folder = checked_folder(course, lesson, args)
    if folder is None:
        return 2
    tampered = checksums.is_release(course.root) and not args.path and checksums.changes(course, lesson)
    if tampered:
        return report_tampering(checksums.tamper_message(tampered), args)
    if args.json:
        return write_results(results_v3(run_tests(folder, tasks=tuple(args.task))), args)
    own_workspace = not (args.solution or args.path)
    state = State.load(course.workspace) if own_workspace else None
    return check_and_report(course, lesson, folder, tuple(args.task), state)


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

SOURCE_SUFFIXES = {".py", ".html", ".js", ".css"}
NOT_SOURCES = {"tests", "__pycache__", "test-artifacts", ".pytest_cache"}


def is_source(folder: Path, path: Path) -> bool:
    """A file the learner writes: code and templates, not the tests, caches or the database."""
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        return False
    return path.suffix in SOURCE_SUFFIXES and not NOT_SOURCES.intersection(parts)


def watch_changes(folder: Path, changed: threading.Event, interval: float):
    """Set `changed` on every save of a source file in `folder`: file-system events where the
    system has them, polling every `interval` seconds where it has not. Returns the observer."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    class OnSave(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            paths = [event.src_path, getattr(event, "dest_path", "")]
            if event.event_type != "opened" and any(p and is_source(folder, Path(p)) for p in paths):
                changed.set()

    for make in (Observer, lambda: PollingObserver(timeout=interval)):
        observer = make()
        try:
            observer.schedule(OnSave(), str(folder), recursive=True)
            observer.start()
            return observer
        except OSError:  # no inotify watches left, a network file system...: poll instead
            continue
    raise RuntimeError(f"Cannot watch {folder}")


def watch_once(course: Course, lesson: Lesson, copy: Path) -> None:
    """Check the first unfinished task; when it passes, go on to the next; when all are finished, the
    whole lesson. Stops at the first task that fails."""
    state = State.load(course.workspace)
    unfinished = [task.id for task in lesson.tasks if not state.is_finished(lesson.id, task.id)]
    restore_tests(course, lesson, copy)
    if not unfinished:
        if check_and_report(course, lesson, copy, (), state) == 0:
            nxt = next_lesson(course, lesson)
            say(f"When you are ready: course start {nxt.id}" if nxt else "That was the last lesson.")
        return
    for task_id in unfinished:
        if check_and_report(course, lesson, copy, (task_id,), state) != 0:
            return
        state = State.load(course.workspace)
    say(f"\nAll {len(lesson.tasks)} tasks of lesson {lesson.id} pass.")


def cmd_watch(course: Course, args: argparse.Namespace) -> int:
    state = State.load(course.workspace)
    wanted = args.lesson or state.current
    if wanted is None:
        say("No lesson started yet. Run: course start 01")
        return 2
    lesson = course.lesson(wanted)
    copy = release.learner_folder(course, lesson)
    if not copy.exists():
        say(f"Run `course start {lesson.id}` first.")
        return 2
    say(f"Watching {display(copy)}: every save re-checks your first unfinished task. Ctrl-C to stop.")
    changed = threading.Event()
    changed.set()  # a first check straight away
    observer = watch_changes(copy, changed, args.interval)
    try:
        while True:
            if changed.wait(timeout=0.5):
                time.sleep(0.2)  # editors save in several steps: let them finish
                changed.clear()  # a save during the check triggers the next one
                say("\n" + "─" * 72)
                watch_once(course, lesson, copy)
    except KeyboardInterrupt:
        say("\nStopped watching.")
        return 0
    finally:
        observer.stop()


def next_lesson(course: Course, lesson: Lesson) -> Lesson | None:
    index = course.lessons.index(lesson)
    return course.lessons[index + 1] if index + 1 < len(course.lessons) else None


# --- run ---------------------------------------------------------------------------------------

def cmd_run(course: Course, args: argparse.Namespace) -> int:
    lesson = course.lesson(args.lesson)
    folder = lesson.folder if args.solution else release.learner_folder(course, lesson)
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
    watch.add_argument("--interval", type=float, default=1.0,
                       help="where the file system sends no change events: seconds between looks (default 1)")
    watch.set_defaults(handler=cmd_watch)

    reset = commands.add_parser("reset", help="back to the starter: a whole lesson, or one FILE of it")
    reset.add_argument("lesson")
    reset.add_argument("file", nargs="?")
    reset.set_defaults(handler=cmd_reset)

    handout = commands.add_parser("release", help="write the class repository (starters, tests, grading workflow) into DIR")
    handout.add_argument("directory", metavar="DIR", help="a new or empty folder")
    handout.set_defaults(handler=release.cmd_release)

    grade = commands.add_parser("grade", help="grade a folder of student repositories: a CSV and HTML gradebook")
    grading.add_arguments(grade)
    grade.set_defaults(handler=grading.cmd_grade)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        course = manifest.load()
        return args.handler(course, args)
    except (KeyError, FileNotFoundError, starter.MarkerError) as problem:
        say(str(problem).strip("'\""))
        return 2
    except BrokenPipeError:  # `course list | head`: the reader has gone, so stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
