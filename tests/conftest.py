"""Course-wide checks. The lessons' own tests run in child processes, from the lesson's folder."""

import pytest

from coursekit import manifest


@pytest.fixture(scope="session")
def course() -> manifest.Course:
    return manifest.load()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `lesson` over every lesson and `lesson_task` over every (lesson, task)."""
    lessons = manifest.load().lessons
    if "lesson" in metafunc.fixturenames:
        metafunc.parametrize("lesson", lessons, ids=[lesson.id for lesson in lessons])
    if "lesson_task" in metafunc.fixturenames:
        pairs = [(lesson, task) for lesson in lessons for task in lesson.tasks]
        metafunc.parametrize("lesson_task", pairs, ids=[f"{lesson.id}-task{task.id}" for lesson, task in pairs])
