"""`course grade` over a class of generated submissions of lesson 01, through the real command."""

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursekit import grade, servers, starter
from coursekit.timing import scaled

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
HANG_TIMEOUT = scaled(20)  # longer than lesson 01's whole run on a busy machine, far shorter than a hang

# One worker runs this module: its tests share one graded class.
pytestmark = pytest.mark.xdist_group("grade")


def submit(lesson, submissions: Path, student: str, stubbed: set[int]) -> Path:
    """A student repository laid out like the course, with the tasks in `stubbed` left as starters."""
    return starter.write_starter(lesson, submissions / student / lesson.folder.relative_to(ROOT), tasks=stubbed)


def replace_line(path: Path, starting: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(number for number, line in enumerate(lines) if line.strip().startswith(starting))
    lines[index] = new
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    lesson = course.lesson("01")
    submissions = tmp_path_factory.mktemp("class") / "submissions"
    submit(lesson, submissions, "solved", set())
    submit(lesson, submissions, "half", {2, 3})
    submit(lesson, submissions, "empty", None)
    edited = submit(lesson, submissions, "edited-tests", {3})
    (edited / "tests" / "test_task3_handshake.py").write_text(
        "import pytest\n\n\n@pytest.mark.task(3)\ndef test_nothing():\n    pass\n")
    hangs = submit(lesson, submissions, "hangs", {3})
    # An endless loop where the accept key should be computed (sleeping, to spare the busy CPU).
    replace_line(hangs / "realtime" / "handshake.py", 'raise NotImplementedError("Task 3',
                 "    while True:\n        __import__('time').sleep(0.05)\n")
    broken = submit(lesson, submissions, "broken", set())
    replace_line(broken / "realtime" / "handshake.py", "def accept_key", "def accept_key(client_key: str) -> str\n")
    (submissions / ".git").mkdir()  # not a student

    out = submissions.parent / "gradebook"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "coursekit.cli", "grade", str(submissions), "--lessons", "01", "--jobs", "2",
         "--timeout", str(HANG_TIMEOUT)],
        cwd=ROOT, capture_output=True, text=True, timeout=scaled(300))
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return {"result": result, "seconds": seconds, "out": out, "submissions": submissions,
            "grades": {(row["student"], int(row["task"])): row for row in rows}, "rows": rows}


def statuses(graded, student: str) -> dict[int, str]:
    return {task: row["status"] for (name, task), row in graded["grades"].items() if name == student}


def test_the_csv_has_one_row_per_student_and_task(graded):
    assert list(graded["rows"][0]) == ["student", "lesson", "task", "points", "max_points", "status", "first_failure"]
    assert {name for name, _ in graded["grades"]} == {"solved", "half", "empty", "edited-tests", "hangs", "broken"}
    assert len(graded["rows"]) == 6 * 5
    assert "grading: 6/6 done" in graded["result"].stderr, graded["result"].stderr


def test_each_submission_gets_its_own_status(graded):
    assert statuses(graded, "solved") == dict.fromkeys(range(1, 6), "passed")
    assert statuses(graded, "half") == {1: "passed", 2: "failed", 3: "failed", 4: "passed", 5: "passed"}
    assert statuses(graded, "empty") == dict.fromkeys(range(1, 6), "failed")
    assert statuses(graded, "edited-tests") == dict.fromkeys(range(1, 6), "tampered")
    assert statuses(graded, "hangs") == {1: "passed", 2: "passed", 3: "timeout", 4: "passed", 5: "passed"}
    assert statuses(graded, "broken") == dict.fromkeys(range(1, 6), "error")


def test_points_and_first_failures_say_what_happened(graded):
    grades = graded["grades"]
    assert [grades[("solved", task)]["points"] for task in range(1, 6)] == ["1"] * 5
    assert grades[("half", 2)]["points"] == "0" and "Task 2" in grades[("half", 2)]["first_failure"]
    # Graded with the course's tests, whatever the edited copy says: task 3 still fails.
    tampered = grades[("edited-tests", 3)]
    assert tampered["points"] == "0" and "tests/test_task3_handshake.py" in tampered["first_failure"]
    assert "with the course's tests: failed" in tampered["first_failure"]
    assert grades[("edited-tests", 1)]["points"] == "1"
    assert f"stopped after {HANG_TIMEOUT:g} s" in grades[("hangs", 3)]["first_failure"]
    assert grades[("broken", 1)]["first_failure"] == "realtime/handshake.py line 22: SyntaxError: expected ':'"


def test_grading_never_touches_the_submissions(graded):
    edited = graded["submissions"] / "edited-tests" / "lessons" / "01_http_vs_websocket"
    assert "test_nothing" in (edited / "tests" / "test_task3_handshake.py").read_text()
    assert not list(graded["submissions"].rglob("__pycache__")), "a run wrote into a student's folder"


def test_a_hang_costs_its_timeout_not_the_run(graded):
    # Six lessons run two at a time, one of them waits out HANG_TIMEOUT once; nothing waits twice.
    assert graded["seconds"] < HANG_TIMEOUT + scaled(120), graded["result"].stdout


def test_the_gradebook_page_shows_the_table_and_the_chart_in_chromium(graded):
    from playwright.sync_api import sync_playwright

    chromium = servers.find_chromium()
    assert chromium, servers.CHROMIUM_MISSING
    ARTIFACTS.mkdir(exist_ok=True)
    page_url = (graded["out"] / "gradebook.html").as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=servers.CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_url)
                assert page.locator("#gradebook tbody tr").count() == 6
                assert page.locator("#gradebook td.timeout").count() == 1
                assert page.locator("#gradebook td.tampered").count() == 5
                assert page.locator("#chart .bar").count() == 5
                hardest = page.locator("#chart .label").first.inner_text()
                assert hardest == "01 · task 3", "task 3 passes least often: it leads the chart"
                assert page.locator("#chart .share").first.inner_text() == "17%"  # 1 of 6: only `solved` passes it
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"at {width} px the page scrolls sideways by {overflow} px"
                page.screenshot(path=str(ARTIFACTS / f"gradebook-{width}.png"), full_page=True)
                page.close()
        finally:
            browser.close()


def test_a_repository_without_the_lesson_gets_error_without_a_run(course, tmp_path):
    lesson = course.lesson("01")
    worth = {("01", task.id): 1 for task in lesson.tasks}
    grades = grade.grade_lesson(course, lesson, "nobody", tmp_path, timeout=1, points=worth)
    assert {g.status for g in grades} == {"error"} and {g.points for g in grades} == {0}
    assert grades[0].first_failure == "the repository has no lessons/01_http_vs_websocket/"


def test_a_conftest_the_student_added_counts_as_changed_and_stays_behind(course, tmp_path):
    lesson = course.lesson("01")
    theirs = starter.write_starter(lesson, tmp_path / "theirs", tasks=set())
    assert grade.changed_graded_files(theirs, lesson.folder) == []
    (theirs / "conftest.py").write_text("collect_ignore_glob = ['tests/*']\n")
    assert grade.changed_graded_files(theirs, lesson.folder) == ["conftest.py"]
    scratch = grade.scratch_copy(theirs, lesson.folder, tmp_path / "scratch")
    assert not (scratch / "conftest.py").exists() and (scratch / "tests" / "test_task3_handshake.py").is_file()


def test_a_test_stopped_by_pytest_timeout_counts_as_a_hang():
    from coursekit.runner import RunResult, TestResult

    def result(status: str, message: str) -> TestResult:
        return TestResult("tests/t.py::test_x", "test_x", 3, status, message, message, "", "")

    hung = result("fail", "Failed: Timeout (>60.0s) from pytest-timeout.")
    stopped = RunResult(exitstatus=1, tests=[result("pass", ""), hung])
    assert grade.task_verdict(stopped, 3) == ("timeout", "test_x: Failed: Timeout (>60.0s) from pytest-timeout.")
    assert grade.task_verdict(RunResult(exitstatus=1, tests=[result("fail", "E   assert 1 == 2")]), 3)[0] == "failed"
