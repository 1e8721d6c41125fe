"""The learner's loop through the real `course` command, in a throwaway copy of the course root."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One worker runs this module: its tests share a course copy.
pytestmark = pytest.mark.xdist_group("learner-loop")


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "course.toml", root / "course.toml")
    (root / "lessons").symlink_to(ROOT / "lessons")
    return root


def course(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursekit.cli", *args], cwd=root, capture_output=True,
                          text=True, env={**os.environ, "COURSE_ROOT": str(root)}, timeout=600)


@pytest.fixture(scope="module")
def started(course_root) -> Path:
    result = course(course_root, "start", "01")
    assert result.returncode == 0, result.stdout + result.stderr
    return course_root / "workspace" / "01_http_vs_websocket"


def test_start_writes_stubs_and_a_second_start_keeps_the_work(course_root, started):
    assert (started / "realtime" / "echo.py").read_text().count("Task 2: write a raw ASGI WebSocket echo app") == 1
    assert "BEGIN SOLUTION" not in (started / "clock" / "templates" / "clock" / "index.html").read_text()
    assert "already started" in course(course_root, "start", "01").stdout


def test_a_fresh_starter_fails_every_task_with_valid_results_json(course_root, started):
    result = course(course_root, "check", "01", "--json")
    assert result.returncode == 0, "with --json the verdict is in the document, not the exit code"
    document = json.loads(result.stdout)
    assert document["version"] == 3 and document["status"] == "fail"
    assert {test["task_id"] for test in document["tests"]} == {1, 2, 3, 4, 5}
    for task_id in range(1, 6):
        statuses = [test["status"] for test in document["tests"] if test["task_id"] == task_id]
        assert "fail" in statuses or "error" in statuses, f"task {task_id} passes on the starter"
    for test in document["tests"]:
        assert set(test) <= {"name", "status", "message", "output", "test_code", "task_id"}
        assert test["test_code"].lstrip().startswith(("def ", "async def "))
        assert test["status"] == "pass" or test["message"]
        assert len(test.get("output", "")) <= 500


def test_check_reports_each_task_and_points_to_a_hint(course_root, started):
    result = course(course_root, "check", "01", "--task", "3")
    assert result.returncode == 1
    assert "✗ Task 3: compute the Sec-WebSocket-Accept value" in result.stdout
    assert "NotImplementedError: Task 3" in result.stdout
    assert "course hint 01 3" in result.stdout


def test_edited_tests_are_restored_before_checking(course_root, started):
    (started / "tests" / "test_task3_handshake.py").write_text("def test_cheat():\n    pass\n")
    result = course(course_root, "check", "01", "--task", "3")
    assert "✗ Task 3" in result.stdout
    assert "test_cheat" not in (started / "tests" / "test_task3_handshake.py").read_text()


def test_hint_shows_one_section(course_root, started):
    result = course(course_root, "hint", "01", "3")
    assert result.stdout.startswith("## Task 3: compute the Sec-WebSocket-Accept value")
    assert "## Task 4" not in result.stdout


def test_reset_keeps_the_previous_version(course_root, started):
    echo = started / "realtime" / "echo.py"
    echo.write_text("# my attempt\n")
    result = course(course_root, "reset", "01", "realtime/echo.py")
    assert result.returncode == 0
    assert "Task 2" in echo.read_text()
    kept = list((course_root / "workspace" / ".trash").rglob("echo.py"))
    assert [path.read_text() for path in kept] == ["# my attempt\n"]


def test_check_path_refuses_a_folder_that_is_not_the_lesson_and_changes_nothing(course_root, tmp_path):
    own = tmp_path / "my_project"
    (own / "tests").mkdir(parents=True)
    (own / "tests" / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    (own / "pytest.ini").write_text("[pytest]\n")
    (own / "conftest.py").write_text("# mine\n")
    before = {path: path.read_bytes() for path in own.rglob("*") if path.is_file()}
    result = course(course_root, "check", "01", "--path", str(own))
    assert result.returncode == 2
    assert "is not a copy of lesson 01" in result.stdout and "Nothing was changed" in result.stdout
    assert {path: path.read_bytes() for path in own.rglob("*") if path.is_file()} == before


def learner_files_are_kept(workspace: Path, contents: dict[str, bytes]) -> None:
    """Each of the learner's texts is still somewhere in the workspace: in place, or in the trash."""
    everything = [path.read_bytes() for path in workspace.rglob("*") if path.is_file()]
    for name, content in contents.items():
        assert content in everything, f"{name} was lost"


def test_no_command_loses_a_learners_file(course_root, started):
    workspace = course_root / "workspace"
    mine = {
        "notes": (started / "my_notes.txt", b"what I learned today\n"),
        "a changed test": (started / "tests" / "test_task3_handshake.py", b"def test_mine():\n    pass\n"),
        "a changed pytest.ini": (started / "pytest.ini", b"[pytest]\n# mine\n"),
        "my echo": (started / "realtime" / "echo.py", b"async def echo_app(scope, receive, send):\n    pass  # mine\n"),
    }
    for path, content in mine.values():
        path.write_bytes(content)
    contents = {name: content for name, (_, content) in mine.items()}
    for command in (["check", "01", "--task", "1"], ["check", "01", "--json", "--task", "2"], ["hint", "01"], ["list"],
                    ["start", "01"], ["check", "01", "--path", str(started), "--task", "3"],
                    ["reset", "01", "realtime/echo.py"], ["reset", "01"]):
        result = course(course_root, *command)
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
        learner_files_are_kept(workspace, contents)


def test_a_passing_task_is_recorded_and_the_hint_moves_on(course_root, started):
    finish(started)
    result = course(course_root, "check", "01", "--task", "1")
    assert result.returncode == 0 and "Task 1 passes" in result.stdout, result.stdout
    assert "01/1" in (course_root / "workspace" / ".course-state.txt").read_text().splitlines()
    assert "[1/5 tasks]" in course(course_root, "list").stdout
    assert course(course_root, "hint", "01").stdout.startswith("## Task 2:")


def test_list_into_a_closed_pipe_ends_quietly(course_root):
    listing = subprocess.run(f"{sys.executable} -m coursekit.cli list --all | head -1", shell=True, cwd=course_root,
                             capture_output=True, text=True, env={**os.environ, "COURSE_ROOT": str(course_root)},
                             timeout=60)
    assert listing.stdout.strip() and listing.stderr == "", listing.stderr


def finish(started: Path) -> None:
    """The learner's copy, with every task done (the solution's own files)."""
    shutil.rmtree(started)
    shutil.copytree(ROOT / "lessons" / "01_http_vs_websocket", started,
                    ignore=shutil.ignore_patterns("__pycache__", "test-artifacts"))


def test_the_finished_lesson_passes_and_is_recorded(course_root, started):
    finish(started)
    result = course(course_root, "check", "01")
    assert result.returncode == 0, result.stdout
    assert "All 5 tasks pass" in result.stdout
    state = (course_root / "workspace" / ".course-state.txt").read_text().splitlines()
    assert state[0].startswith("DON'T EDIT") and state[2] == "01" and state[4:] == [f"01/{n}" for n in range(1, 6)]
    assert "[5/5 tasks]" in course(course_root, "list").stdout


def test_watch_rechecks_on_save_and_never_moves_on(course_root, started):
    finish(started)
    course(course_root, "check", "01")  # every task recorded: a save then re-checks the whole lesson
    watcher = subprocess.Popen([sys.executable, "-m", "coursekit.cli", "watch", "01", "--interval", "0.2"],
                               cwd=course_root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "COURSE_ROOT": str(course_root), "PYTHONUNBUFFERED": "1"})
    try:
        lines = iter(watcher.stdout.readline, "")
        assert "All 5 tasks pass" in next(line for line in lines if "tasks pass" in line or "tasks done" in line)
        (started / "realtime" / "handshake.py").write_text(
            (started / "realtime" / "handshake.py").read_text().replace("WEBSOCKET_GUID).encode", "'x').encode"))
        verdict = next(line for line in lines if "tasks pass" in line or "tasks done" in line)
        assert "4 of 5 tasks done" in verdict
    finally:
        watcher.kill()
        watcher.wait()
    state = (course_root / "workspace" / ".course-state.txt").read_text().splitlines()
    assert state[2] == "01", "watch never changes the current lesson"


def test_code_that_cannot_load_gives_an_error_verdict(course_root, started):
    (started / "basics" / "hello.py").write_text("def broken(:\n")
    document = json.loads(course(course_root, "check", "01", "--json").stdout)
    assert document["status"] == "error"
    assert "SyntaxError" in document["message"] and "hello.py" in document["message"]
    human = course(course_root, "check", "01")
    assert human.returncode == 2 and "Nothing could be checked" in human.stdout
