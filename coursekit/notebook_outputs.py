"""Notebooks are executed once, by the tests, and the site reuses their outputs.

`make test` runs every notebook with nbmake. This pytest plugin (loaded with `-p
coursekit.notebook_outputs`) keeps what each successful run produced, the notebook with its outputs,
in build/executed-notebooks/<key>/<name>.ipynb, where <key> is a hash of the notebook's source. The
site's build then renders that copy instead of executing the notebook again
(coursekit/mkdocs_hooks.py, when COURSE_REUSE_NOTEBOOK_OUTPUTS=1), so the build takes seconds.

The plugin also runs the notebooks on the same xdist worker as the site tests (group "site") and
before them, so the copies are there when the site is built.

A copy is used only while its notebook is byte for byte the one that was executed. It does not
notice a change in the lesson code a notebook imports: the published build (`make docs-build`)
therefore executes every notebook itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = ROOT / "build" / "executed-notebooks"


def key(notebook: Path) -> str:
    return hashlib.sha256(Path(notebook).read_bytes()).hexdigest()[:16]


def executed_copy(notebook: Path) -> Path:
    """Where the executed copy of this version of `notebook` is (or would be) kept."""
    notebook = Path(notebook)
    return EXECUTED / key(notebook) / notebook.name


def save(notebook: Path, executed) -> Path:
    """Keep `executed` (an nbformat notebook) as the executed copy of `notebook`; drop older copies."""
    import nbformat

    notebook = Path(notebook)
    target = executed_copy(notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    nbformat.write(executed, str(partial))
    os.replace(partial, target)  # atomic: a build never reads a half-written copy
    for old in EXECUTED.glob(f"*/{notebook.name}"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


# The pytest plugin ---------------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    if not getattr(config.option, "nbmake", False):
        return
    from nbmake import pytest_items
    from nbmake.nb_run import NotebookRun

    class KeepingRun(NotebookRun):
        """nbmake's run of one notebook, which also keeps the executed notebook when it passed."""

        def execute(self):
            result = super().execute()
            if result.error is None:
                save(self.filename, result.nb)
            else:  # never let the site show the outputs of an earlier, passing run
                executed_copy(self.filename).unlink(missing_ok=True)
            return result

    # nbmake's NotebookItem.runtest builds its run from this module-level name.
    pytest_items.NotebookRun = KeepingRun


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebooks first, on the site tests' worker: the site build then finds their executed copies."""
    notebooks = [item for item in items if getattr(item, "nbmake", False)]
    if not notebooks:
        return
    for item in notebooks:
        item.add_marker(pytest.mark.xdist_group("site"))
    others = [item for item in items if not getattr(item, "nbmake", False)]
    items[:] = notebooks + others
