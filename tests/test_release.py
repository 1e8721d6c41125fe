"""`course release`: the class repository holds no solution, grades like the course, and notices tampering.

One release per module (a quarter of a second); the lesson checks run lesson 01 only, in the release,
through the installed `course` command, as a student and the grader would.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coursekit import checksums, manifest, release, starter

pytestmark = pytest.mark.xdist_group("release")
COURSE = str(Path(sys.executable).with_name("course"))
CHECK_TIMEOUT = 300  # seconds: lesson 01 takes about 10 on a busy machine; never hang
MIN_LENGTH = 12


@pytest.fixture(scope="module")
def released(course, tmp_path_factory):
    return release.release(course, tmp_path_factory.mktemp("class") / "repo")


def stripped_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def solution_lines(course) -> set[str]:
    """Every line written inside a solution region, except the ones that the course's own code also
    holds outside the regions (`return message`, `self.accept()`): those are not the answers."""
    written, elsewhere = set(), set()
    for lesson in course.lessons:
        for region in starter.lesson_regions(lesson):
            lines = region.path.read_text(encoding="utf-8").splitlines()[region.first_line:region.last_line - 1]
            written |= {line.strip() for line in lines if len(line.strip()) > MIN_LENGTH}
        for path in starter.marked_files(lesson.folder):
            elsewhere |= stripped_lines(starter.starter_file_text(lesson, path.relative_to(lesson.folder)).decode())
    for path in (course.root / "coursekit").glob("*.py"):
        elsewhere |= stripped_lines(path.read_text(encoding="utf-8"))
    return written - elsewhere


def leaks(root: Path, answers: set[str]) -> dict[str, list[str]]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            hits = answers & stripped_lines(path.read_text(encoding="utf-8", errors="replace"))
            if hits:
                found[str(path.relative_to(root))] = sorted(hits)
    return found


def test_the_release_holds_no_line_of_any_solution(course, released):
    answers = solution_lines(course)
    assert len(answers) > 100, "the solution regions were not read"
    # The search can fail: the lessons' mistake catalogues quote the solutions, and it finds them there.
    assert leaks(course.root / course.lessons[0].folder.relative_to(course.root), answers)
    assert leaks(released.root, answers) == {}, "solution lines in the release"
    assert not list(released.root.rglob("mistakes.toml")) and not (released.root / "final_project").exists()


def test_the_release_refuses_a_folder_that_is_not_empty(course, tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(release.ReleaseError, match="is not empty"):
        release.release(course, tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_the_workflow_is_yaml_with_one_graded_step_per_task(course, released):
    workflow = yaml.safe_load((released.root / release.WORKFLOW).read_text(encoding="utf-8"))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [step for step in steps if step.get("uses") == release.GRADER]
    expected = [f"{lesson.id} {task.label}" for lesson in course.lessons for task in lesson.tasks]
    assert [step["with"]["test-name"] for step in graders] == expected
    assert all(step["with"]["command"].startswith("CI=true course check ") for step in graders)
    assert all(step["with"]["max-score"] >= 1 for step in graders)
    reporter = steps[-1]
    assert reporter["uses"] == release.REPORTER
    assert reporter["with"]["runners"].split(",") == [step["id"] for step in graders]
    assert set(reporter["env"]) == {f"{step['id'].upper()}_RESULTS" for step in graders}
    assert {"actions/checkout@v4", "actions/setup-python@v5"} <= {step.get("uses") for step in steps}
    assert workflow["permissions"]["checks"] == "write"


def workflow_commands(released, lesson_id: str) -> list[str]:
    workflow = yaml.safe_load((released.root / release.WORKFLOW).read_text(encoding="utf-8"))
    return [step["with"]["command"] for step in workflow["jobs"]["run-autograding-tests"]["steps"]
            if step.get("uses") == release.GRADER and step["with"]["command"].split()[3] == lesson_id]


def as_the_grader(command: str, root: Path) -> subprocess.CompletedProcess:
    """Run `command` as autograding-command-grader does: a shell, only PATH and HOME (and the venv
    on PATH, as setup-python leaves it)."""
    environment = {"PATH": f"{Path(COURSE).parent}{os.pathsep}{os.environ['PATH']}", "HOME": os.environ["HOME"]}
    return subprocess.run(["bash", "-c", command], cwd=root, env=environment, capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT)


def test_the_release_check_fails_every_task_on_the_starters(course, released):
    done = subprocess.run([COURSE, "check", "01"], cwd=released.root, capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT)
    assert done.returncode == 1, done.stdout + done.stderr
    for task in course.lesson("01").tasks:
        assert f"✗ {task.label}" in done.stdout
    assert "NotImplementedError: Task 1:" in done.stdout


def test_the_workflow_commands_pass_with_the_solution_files_copied_in(course, released, tmp_path):
    lesson = course.lesson("01")
    solved = tmp_path / "solved"
    shutil.copytree(released.root, solved)
    for relative in {region.path.relative_to(lesson.folder) for region in starter.lesson_regions(lesson)}:
        shutil.copy2(lesson.folder / relative, solved / lesson.folder.relative_to(course.root) / relative)
    commands = workflow_commands(released, "01")
    assert len(commands) == len(lesson.tasks)
    for command in commands:
        done = as_the_grader(command, solved)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        assert "passes" in done.stdout


def test_an_edited_test_gets_the_tamper_verdict(course, released, tmp_path):
    edited = tmp_path / "edited"
    shutil.copytree(released.root, edited)
    test_file = next((edited / course.lesson("01").folder.relative_to(course.root) / "tests").glob("test_task1*.py"))
    test_file.write_text(test_file.read_text(encoding="utf-8") + "\nassert True\n", encoding="utf-8")
    relative = test_file.relative_to(edited).as_posix()

    human = subprocess.run([COURSE, "check", "01"], cwd=edited, capture_output=True, text=True, timeout=60)
    assert human.returncode == 2
    assert relative in human.stdout and "grading always uses the original tests" in human.stdout
    machine = subprocess.run([COURSE, "check", "01", "--json"], cwd=edited, capture_output=True, text=True,
                             timeout=60)
    results = json.loads(machine.stdout)
    assert results["status"] == "error" and relative in results["message"] and results["tests"] == []
    # Another lesson's check does not care; the grader's copy of the tests is the pristine one.
    edited_course = manifest.load(edited)
    assert checksums.changes(edited_course, edited_course.lesson("02")) == []
    assert checksums.pristine_tests(released.root)[checksums.PurePosixPath(relative)] != test_file.read_bytes()


def test_a_workflow_command_runs_as_written(released):
    """The grader's shell and environment: CI=true reaches `course`, and a starter task fails."""
    command = workflow_commands(released, "01")[2]
    done = as_the_grader(command, released.root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert shlex.split(command)[:2] == ["CI=true", "course"]
