"""`course grade`: grade a folder of student repositories, each in isolation with the course's own tests.

Every (student, lesson) pair runs in a scratch copy of the student's lesson code with the pristine
tests put back, in a child pytest bounded in time, several at once. The gradebook is a CSV (one row
per task) and a self-contained HTML page: a table of students x tasks and a chart of which tasks
the class finds hardest.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from pathlib import Path

from . import checksums, release
from .manifest import Course, Lesson
from .runner import RunResult, run_tests

PASSED, FAILED, ERROR, TIMEOUT, TAMPERED = "passed", "failed", "error", "timeout", "tampered"
# What a student may not change: the graded tests and the configuration that runs them.
GRADED = ("tests", *checksums.LESSON_CONFIGS)
CACHE_NAMES = (*checksums.NOT_GRADED, "*.pyc")
CACHES = shutil.ignore_patterns(*CACHE_NAMES)
NOT_CODE = shutil.ignore_patterns(*GRADED, *CACHE_NAMES, "db.sqlite3", "test-artifacts")
PYTEST_TIMEOUT = "Timeout (>"  # pytest-timeout's message when one test outlives the lesson's limit
FAILURE_LIMIT = 300
TAMPER_VERDICT = "; with the course's tests: "


@dataclass(frozen=True)
class Grade:
    student: str
    lesson: str
    task: int
    points: int
    max_points: int
    status: str
    first_failure: str


# --- one student, one lesson -------------------------------------------------------------------

def graded_files(folder: Path) -> dict[str, bytes]:
    found = {}
    for name in GRADED:
        path = folder / name
        paths = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        for file in paths:
            if file.is_file() and not checksums.NOT_GRADED.intersection(file.parts) and file.suffix != ".pyc":
                found[file.relative_to(folder).as_posix()] = file.read_bytes()
    return found


def changed_graded_files(student_lesson: Path, pristine: Path) -> list[str]:
    """The graded files the student added, removed or edited."""
    theirs, ours = graded_files(student_lesson), graded_files(pristine)
    return sorted(name for name in theirs.keys() | ours.keys() if theirs.get(name) != ours.get(name))


def scratch_copy(student_lesson: Path, pristine: Path, destination: Path) -> Path:
    """The student's code with the pristine tests; the student's own tests never come along."""
    shutil.copytree(student_lesson, destination, ignore=NOT_CODE)
    for name in GRADED:
        source = pristine / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=CACHES)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    return destination


def short(text: str) -> str:
    """One line of a failure, the one that says most: pytest's `E ...` line when there is one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    explained = [line[1:].strip() for line in lines if line.startswith("E ")]
    line = (explained[-1] if explained else lines[0]) if lines else ""
    return line[:FAILURE_LIMIT]


def load_error(error: str, folder: Path) -> str:
    """Why the tests did not load, pointing at the student's file when the traceback names one."""
    root = folder.resolve()
    places = [(path, line) for path, line in re.findall(r'File "([^"]+)", line (\d+)', error)
              if path.startswith(f"{root}{os.sep}")]
    where = f"{Path(places[-1][0]).relative_to(root).as_posix()} line {places[-1][1]}: " if places else ""
    return where + short(error)


def task_verdict(run: RunResult, task_id: int) -> tuple[str, str]:
    tests = run.tests_of(task_id)
    if not tests:
        return ERROR, "no test of this task ran"
    failing = [test for test in tests if test.status != "pass"]
    if not failing:
        return PASSED, ""
    first = failing[0]
    detail = f"{first.name}: {short(first.message or first.longrepr)}"
    hung = any(PYTEST_TIMEOUT in (test.message + test.longrepr) for test in failing)
    return (TIMEOUT if hung else FAILED), detail


class Progress:
    """Remembers, from the runner's events, which test was running when the run was stopped."""

    def __init__(self) -> None:
        self.collected: list[dict] = []
        self.done: set[str] = set()

    def __call__(self, event: dict) -> None:
        if "collected" in event:
            self.collected = event["collected"]
        else:
            self.done.add(event["done"])

    def running_task(self) -> int | None:
        return next((test["task_id"] for test in self.collected if test["nodeid"] not in self.done), None)


def run_lesson(folder: Path, lesson: Lesson, timeout: float) -> dict[int, tuple[str, str]]:
    """Each task's (status, first failure). A run that hangs is stopped after `timeout` seconds;
    the task it hung in gets `timeout` and the other unfinished tasks run again, so that one
    endless loop costs only its own task."""
    verdicts: dict[int, tuple[str, str]] = {}
    remaining = [task.id for task in lesson.tasks]
    while remaining:
        progress = Progress()
        started = time.monotonic()
        only = () if len(remaining) == len(lesson.tasks) else tuple(remaining)
        run = run_tests(folder, tasks=only, timeout=timeout, on_event=progress)
        if run.error is None:
            verdicts.update({task_id: task_verdict(run, task_id) for task_id in remaining})
            break
        if time.monotonic() - started < timeout:  # it did not hang: it could not load
            verdicts.update({task_id: (ERROR, load_error(run.error, folder)) for task_id in remaining})
            break
        hung = progress.running_task()
        stopped = f"stopped after {timeout:g} s"
        if hung is None:  # it hung before any test ran: while importing or collecting
            verdicts.update({task_id: (TIMEOUT, f"{stopped}, before any test ran") for task_id in remaining})
            break
        test = next(test["nodeid"] for test in progress.collected if test["nodeid"] not in progress.done)
        verdicts[hung] = (TIMEOUT, f"{test.rsplit('::', 1)[-1]}: {stopped}")
        remaining.remove(hung)
    return verdicts


def grade_lesson(course: Course, lesson: Lesson, student: str, repository: Path, timeout: float,
                 points: dict[tuple[str, int], int]) -> list[Grade]:
    place = lesson.folder.relative_to(course.root)
    student_lesson = repository / place
    pristine = lesson.folder  # the course's own tests/, pytest.ini and conftest.py: the graded ones
    if not student_lesson.is_dir():
        verdicts = {task.id: (ERROR, f"the repository has no {place.as_posix()}/") for task in lesson.tasks}
        changed: list[str] = []
    else:
        changed = changed_graded_files(student_lesson, pristine)
        with tempfile.TemporaryDirectory(prefix="course-grade-") as scratch:
            folder = scratch_copy(student_lesson, pristine, Path(scratch) / lesson.name)
            verdicts = run_lesson(folder, lesson, timeout)
    grades = []
    for task in lesson.tasks:
        status, failure = verdicts[task.id]
        worth = points[(lesson.id, task.id)]
        earned = worth if status == PASSED else 0
        if changed:
            listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            failure = f"tests changed ({listed}){TAMPER_VERDICT}{status}" + (f": {failure}" if failure else "")
            status = TAMPERED
        grades.append(Grade(student, lesson.id, task.id, earned, worth, status, failure))
    return grades


# --- the class ---------------------------------------------------------------------------------

def students(submissions: Path) -> list[tuple[str, Path]]:
    return [(folder.name, folder) for folder in sorted(submissions.iterdir())
            if folder.is_dir() and not folder.name.startswith((".", "_"))]


def show_progress(done: int, total: int, last: str) -> None:
    if sys.stderr.isatty():
        bar = "#" * (20 * done // total)
        sys.stderr.write(f"\rgrading [{bar:<20}] {done}/{total} done  {last[:40]:<40}")
        if done == total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(f"grading: {done}/{total} done ({last})\n")
    sys.stderr.flush()


def grade_class(course: Course, lessons: list[Lesson], submissions: Path, jobs: int, timeout: float) -> list[Grade]:
    work = [(name, repository, lesson) for name, repository in students(submissions) for lesson in lessons]
    grades: list[Grade] = []
    points = release.points(course)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # each job waits on its own child pytest
        futures = {pool.submit(grade_lesson, course, lesson, name, repository, timeout, points): (name, lesson)
                   for name, repository, lesson in work}
        for done, future in enumerate(as_completed(futures), start=1):
            name, lesson = futures[future]
            lesson_grades = future.result()
            grades += lesson_grades
            passed = sum(grade.points == grade.max_points for grade in lesson_grades)
            show_progress(done, len(work), f"{name} {lesson.id}: {passed}/{len(lesson_grades)} tasks")
    return sorted(grades, key=lambda grade: (grade.student, grade.lesson, grade.task))


def keep_previous(out: Path, names: tuple[str, ...]) -> Path | None:
    """Move an earlier gradebook aside (into previous/<time>/) rather than overwrite it."""
    existing = [out / name for name in names if (out / name).exists()]
    if not existing:
        return None
    kept = out / "previous" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    kept.mkdir(parents=True)
    for path in existing:
        shutil.move(str(path), str(kept / path.name))
    return kept


def write_csv(grades: list[Grade], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([field.name for field in fields(Grade)])
        writer.writerows(astuple(grade) for grade in grades)


# --- the HTML page -----------------------------------------------------------------------------

SYMBOL = {PASSED: "✓", FAILED: "✗", ERROR: "!", TIMEOUT: "∞", TAMPERED: "⚑"}
MEANING = {PASSED: "passes", FAILED: "fails", ERROR: "does not load", TIMEOUT: "hangs (stopped)",
           TAMPERED: "tests changed (graded with the course's)"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gradebook</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem; max-width: 70rem; color: #1c1c1c; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .25rem; }} h2 {{ font-size: 1.1rem; margin: 1.5rem 0 .5rem; }}
.meta, .legend {{ color: #555; font-size: .85rem; }}
.legend span {{ display: inline-block; margin: .15rem .6rem .15rem 0; white-space: nowrap; }}
.scroll {{ width: fit-content; max-width: 100%; overflow-x: auto; border: 1px solid #ddd; border-radius: 4px; }}
table {{ border-collapse: collapse; font-size: .9rem; }}
th, td {{ padding: .3rem .45rem; border: 1px solid #e3e3e3; text-align: center; white-space: nowrap; }}
th.student {{ position: sticky; left: 0; background: #fff; text-align: left; max-width: 9rem;
  overflow: hidden; text-overflow: ellipsis; }}
thead th {{ background: #f6f6f6; }}
.passed {{ background: #d8f0da; color: #1b5e20; }} .failed {{ background: #fbdcdc; color: #8e1b1b; }}
.error {{ background: #e4e0f2; color: #3f2d86; }} .timeout {{ background: #ffe7c2; color: #7a4300; }}
.tampered {{ background: #f7d2ef; color: #7b1368; font-weight: 600; }}
.chart {{ display: grid; grid-template-columns: minmax(4.5rem, auto) 1fr 3rem; gap: .3rem .5rem;
  align-items: center; max-width: 46rem; }}
.bar {{ background: #eee; border-radius: 3px; height: 1.1rem; }}
.bar div {{ background: #2e7d32; height: 100%; border-radius: 3px; }}
.label {{ font-size: .85rem; }} .share {{ text-align: right; font-variant-numeric: tabular-nums; }}
@media (max-width: 480px) {{ body {{ padding: .6rem; }} th, td {{ padding: .25rem .3rem; }}
  table {{ font-size: .82rem; }} th.student {{ max-width: 6.5rem; }} }}
ul.flags {{ padding-left: 1.1rem; font-size: .85rem; }} ul.flags li {{ margin: .2rem 0; overflow-wrap: anywhere; }}
</style></head>
<body>
<h1>Gradebook</h1>
<p class="meta">{summary}</p>
<p class="legend">{legend}</p>
<div class="scroll"><table id="gradebook">
<thead><tr><th class="student" rowspan="2">Student</th>{lesson_heads}<th rowspan="2">Total</th></tr>
<tr>{task_heads}</tr></thead>
<tbody>
{rows}
</tbody></table></div>
<h2>Share of the class passing each task, hardest first</h2>
<div class="chart" id="chart">
{bars}
</div>
<h2>What needs a look</h2>
<ul class="flags" id="flags">
{flags}
</ul>
</body></html>
"""


def needing_a_look(grades: list[Grade]) -> list[list[Grade]]:
    """The grades that failed to load, hung or changed tests, one group per student, lesson and status."""
    groups: dict[tuple[str, str, str], list[Grade]] = {}
    for grade in grades:
        if grade.status in (ERROR, TIMEOUT, TAMPERED):
            groups.setdefault((grade.student, grade.lesson, grade.status), []).append(grade)
    return list(groups.values())


def flag_line(group: list[Grade]) -> str:
    first = group[0]
    tasks = ", ".join(str(grade.task) for grade in group)
    detail = first.first_failure.partition(TAMPER_VERDICT)[0] if first.status == TAMPERED else first.first_failure
    return (f"<li><b>{html.escape(first.student)}</b>, lesson {html.escape(first.lesson)}, "
            f"task{'s' if len(group) > 1 else ''} {tasks}: "
            f'<span class="{first.status}">{first.status}</span> {html.escape(detail)}</li>')


def write_html(grades: list[Grade], lessons: list[Lesson], path: Path, seconds: float) -> None:
    esc = html.escape
    by_cell = {(grade.student, grade.lesson, grade.task): grade for grade in grades}
    names = sorted({grade.student for grade in grades})
    columns = [(lesson, task) for lesson in lessons for task in lesson.tasks]
    lesson_heads = "".join(f'<th colspan="{len(lesson.tasks)}" title="{esc(lesson.title)}">Lesson {esc(lesson.id)}</th>'
                           for lesson in lessons)
    task_heads = "".join(f'<th title="{esc(task.label)}">{task.id}</th>' for _, task in columns)
    rows = []
    for name in names:
        cells, earned, possible = [], 0, 0
        for lesson, task in columns:
            grade = by_cell[(name, lesson.id, task.id)]
            earned, possible = earned + grade.points, possible + grade.max_points
            tip = f"{task.label}: {MEANING[grade.status]}" + (f". {grade.first_failure}" if grade.first_failure else "")
            cells.append(f'<td class="{grade.status}" title="{esc(tip)}">{SYMBOL[grade.status]} {grade.points}</td>')
        rows.append(f'<tr><th class="student" title="{esc(name)}">{esc(name)}</th>{"".join(cells)}'
                    f"<td><b>{earned}</b>/{possible}</td></tr>")
    shares = []
    for lesson, task in columns:
        cell = [by_cell[(name, lesson.id, task.id)] for name in names]
        passing = sum(grade.points == grade.max_points for grade in cell)
        shares.append((passing / len(cell) if cell else 0.0, lesson, task))
    bars = "\n".join(
        f'<span class="label" title="{esc(task.label)}">{esc(lesson.id)} · task {task.id}</span>'
        f'<div class="bar" role="img" aria-label="{share:.0%} pass"><div style="width:{share * 100:.1f}%"></div></div>'
        f'<span class="share">{share:.0%}</span>'
        for share, lesson, task in sorted(shares, key=lambda item: item[0]))
    flags = "\n".join(flag_line(group) for group in needing_a_look(grades)) or \
        "<li>Nothing: no submission failed to load, hung or changed its tests.</li>"
    legend = "".join(f'<span><span class="{status}">&nbsp;{SYMBOL[status]}&nbsp;</span> {MEANING[status]}</span>'
                     for status in SYMBOL)
    summary = (f"{len(names)} students, {len(columns)} tasks, graded {datetime.now():%Y-%m-%d %H:%M} "
               f"in {seconds:.0f} s. A cell shows the points earned; hover it for the first failure.")
    path.write_text(PAGE.format(summary=esc(summary), legend=legend, lesson_heads=lesson_heads, task_heads=task_heads,
                                rows="\n".join(rows), bars=bars, flags=flags), encoding="utf-8")


# --- the command -------------------------------------------------------------------------------

def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="one student repository per subfolder")
    command.add_argument("--lessons", nargs="+", default=[], metavar="ID", help="only these lessons (default: all)")
    command.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                         help="lessons graded at once (default: the machine's cores)")
    command.add_argument("--timeout", type=float, default=300,
                         help="seconds one lesson's tests may run before the run is stopped (default 300)")
    command.add_argument("--out", metavar="DIR",
                         help="where the gradebook goes (default: SUBMISSIONS_DIR/../gradebook)")


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    submissions = Path(args.submissions).resolve()
    if not submissions.is_dir() or not students(submissions):
        print(f"{submissions} holds no student repositories (one folder per student).")
        return 2
    lessons = [course.lesson(wanted) for wanted in args.lessons] or list(course.lessons)
    if checksums.is_release(course.root):
        try:  # grading from a class repository: its own tests must still be the released ones
            checksums.pristine_tests(course.root)
        except ValueError as problem:
            print(problem)
            return 2
    out = Path(args.out).resolve() if args.out else submissions.parent / "gradebook"
    started = time.monotonic()
    grades = grade_class(course, lessons, submissions, args.jobs, args.timeout)
    seconds = time.monotonic() - started
    out.mkdir(parents=True, exist_ok=True)
    kept = keep_previous(out, ("gradebook.csv", "gradebook.html"))
    write_csv(grades, out / "gradebook.csv")
    write_html(grades, lessons, out / "gradebook.html", seconds)
    count = len({grade.student for grade in grades})
    print(f"Graded {count} students x {len(lessons)} lesson{'s' * (len(lessons) != 1)} in {seconds:.1f} s.")
    for status in SYMBOL:
        print(f"  {status:<9} {sum(grade.status == status for grade in grades)} tasks")
    if kept:
        print(f"The previous gradebook is kept in {kept}")
    print(f"Wrote {out / 'gradebook.csv'}\n      {out / 'gradebook.html'}")
    return 0
