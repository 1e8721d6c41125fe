"""The manifest and every lesson folder agree: files, hints, solution regions."""

from coursekit import hints, starter


def test_every_lesson_has_its_files(lesson):
    for name in ("README.md", "pytest.ini", "manage.py"):
        assert (lesson.folder / name).is_file(), f"{lesson.folder.name} has no {name}"
    assert lesson.hints_file.is_file()
    assert (lesson.folder / "tests").is_dir()


def test_every_lesson_has_four_to_six_tasks(lesson):
    assert 4 <= len(lesson.tasks) <= 6
    assert [task.id for task in lesson.tasks] == list(range(1, len(lesson.tasks) + 1))


def test_every_task_has_a_hint_section(lesson):
    sections = hints.sections(lesson.hints_file)
    assert "general" in sections
    for task in lesson.tasks:
        assert str(task.id) in sections, f"hints.md of lesson {lesson.id} has no '## Task {task.id}: ...' section"
        assert task.title in sections[str(task.id)].splitlines()[0], "the hint heading must repeat the task title"


def test_every_task_has_a_solution_region(lesson):
    tasks_with_regions = {region.task for region in starter.lesson_regions(lesson)}
    assert tasks_with_regions == {task.id for task in lesson.tasks}
