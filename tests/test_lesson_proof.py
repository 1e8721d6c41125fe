"""The course's own proof, per lesson and per task: the solution passes, the stubbed task fails."""


from coursekit import starter
from coursekit.runner import run_tests


def test_the_solution_passes_every_test(lesson):
    run = run_tests(lesson.folder)
    assert run.error is None, run.error
    failing = [f"{test.nodeid}: {test.message}" for test in run.tests if test.status != "pass"]
    assert not failing, "The solution fails:\n" + "\n".join(failing) + "\n" + run.console[-4000:]


def test_every_task_has_tests(lesson):
    run = run_tests(lesson.folder, collect_only=True)
    assert run.error is None, run.error
    for task in lesson.tasks:
        assert run.tests_of(task.id), f"Lesson {lesson.id}, task {task.id} has no test"
    assert {test.task_id for test in run.tests} <= {task.id for task in lesson.tasks}


def test_a_starter_with_only_this_task_stubbed_fails_it(lesson_task, tmp_path):
    lesson, task = lesson_task
    copy = starter.write_starter(lesson, tmp_path / lesson.name, tasks={task.id})
    # The first failure is the one `course check` shows in full: it must name the task. Stopping
    # there also spares the wait of every later test for an answer the stub never gives.
    run = run_tests(copy, tasks=(task.id,), pytest_args=("--maxfail=1",))
    assert run.error is None, f"The starter does not even load: {run.error}"
    first = run.first_failure()
    assert first is not None, f"With task {task.id} stubbed, all its tests still pass: they do not check it."
    assert task.label in first.longrepr, (
        f"The first failure does not name the task; the learner would not know what to do:\n{first.longrepr}")
