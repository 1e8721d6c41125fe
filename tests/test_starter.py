"""Solution regions become stubs that keep the file valid and fail with the task's name."""

import ast

import pytest

from coursekit import starter
from coursekit.manifest import Lesson, Task

LESSON = Lesson(id="99", folder=None, title="t", asgi_app="a:b", hints_file=None,
                tasks=(Task(1, "say hello"), Task(2, "say goodbye")))

PYTHON = '''def hello():
    greeting = "hi"
    # BEGIN SOLUTION task=1
    return greeting
    # END SOLUTION


def goodbye():
    # BEGIN SOLUTION task=2
    return "bye"
    # END SOLUTION
'''


def test_python_regions_become_a_raise_naming_the_task():
    text = starter.stub_text(PYTHON, LESSON, tasks=None)
    ast.parse(text)
    assert 'raise NotImplementedError("Task 1: say hello.' in text
    assert 'raise NotImplementedError("Task 2: say goodbye.' in text
    assert "return greeting" not in text and "SOLUTION" not in text
    namespace = {}
    exec(compile(text, "stub.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="course hint 99 1"):
        namespace["hello"]()


def test_only_the_chosen_tasks_are_stubbed():
    text = starter.stub_text(PYTHON, LESSON, tasks={2})
    assert "return greeting" in text and "Task 2: say goodbye" in text and "Task 1" not in text
    assert "SOLUTION" not in text, "markers of regions left in place are dropped too"


def test_javascript_and_html_regions():
    source = ("<ul>\n  <!-- BEGIN SOLUTION task=1 -->\n  <li>hi</li>\n  <!-- END SOLUTION -->\n</ul>\n"
              "<script>\nfunction f() {\n  // BEGIN SOLUTION task=2\n  return 1;\n  // END SOLUTION\n}\n</script>\n")
    text = starter.stub_text(source, LESSON, tasks=None)
    assert "  <!-- TODO Task 1: say hello." in text
    assert '  throw new Error("Task 2: say goodbye.' in text
    assert "<li>hi</li>" not in text and "return 1;" not in text


@pytest.mark.parametrize("source, problem", [
    ("# BEGIN SOLUTION task=1\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
    ("# BEGIN SOLUTION task=1\n# BEGIN SOLUTION task=2\n# END SOLUTION\n", "inside the region"),
])
def test_broken_markers_are_reported_with_their_line(tmp_path, source, problem):
    path = tmp_path / "broken.py"
    path.write_text(source)
    with pytest.raises(starter.MarkerError, match=problem):
        starter.find_regions(path)
