"""Task 2, in a real Chromium: the lesson's page (chat/templates/chat/index.html) served by two daphne
processes that share Redis; what either page sends, both show."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Error as PlaywrightError

from coursekit.pytest_plugin import site_screenshot
from coursekit.timing import scaled

pytestmark = pytest.mark.task(2)

ARRIVES_MS = scaled(5) * 1000  # something that should show soon: ends as soon as it does
SERVED_BY = re.compile(r"Served by (pid \d+, port \d+)")


def log_of(page) -> list[str]:
    return page.locator("#log div").all_text_contents()


def server_log(server) -> str:
    return "The server's last lines:\n" + "\n".join(server.output().splitlines()[-20:])


def wait_for_line(page, text: str) -> bool:
    try:
        page.wait_for_function("(text) => [...document.querySelectorAll('#log div')].some((line) => "
                               "line.textContent === text || line.textContent.startsWith('(closed'))",
                               arg=text, timeout=ARRIVES_MS)
    except PlaywrightError:
        return False
    return text in log_of(page)


def open_page(page, server, name: str) -> str:
    """The chat page of `server`, its socket open; which process served it ("pid ..., port ...")."""
    response = page.goto(f"{server.http_url}/")
    if response is None or not response.ok:
        pytest.fail(f"GET / on process {name} answered {response and response.status}: the page did not load.",
                    pytrace=False)
    if not wait_for_line(page, "(connected)"):
        pytest.fail(f"The page of process {name} did not open its socket to /ws/chat/lobby/; its log reads "
                    f"{log_of(page)}. {server_log(server)}", pytrace=False)
    return SERVED_BY.search(page.locator("body p").first.text_content()).group(1)


def expect_line(page, text: str, who: str, server) -> None:
    if not wait_for_line(page, text):
        pytest.fail(f"The page of {who} never showed {text!r} within {ARRIVES_MS / 1000:g} s; its log reads "
                    f"{log_of(page)}. relay() must group_send to the room's group and chat_message() must pass the "
                    f"event on to the socket. {server_log(server)}", pytrace=False)


def test_two_pages_on_two_processes_sharing_redis_show_each_others_messages(start_daphne, redis_url, page):
    env = {"CHANNEL_LAYER": "redis", "REDIS_URL": redis_url}
    with ThreadPoolExecutor(2) as starting:  # side by side: a second less to wait
        server_a, server_b = starting.map(lambda _: start_daphne(env=env), "AB")
    page_a, page_b = page, page.context.new_page()
    try:
        served_a, served_b = open_page(page_a, server_a, "A"), open_page(page_b, server_b, "B")
        assert served_a != served_b, f"Both pages say they were served by {served_a}: one process, not two."
        for sender, server, text in ((page_a, server_a, "hello from process A"), (page_b, server_b, "hi A, B here")):
            sender.fill("#text", text)
            sender.press("#text", "Enter")
            expect_line(page_a, text, "process A", server_a)
            expect_line(page_b, text, "process B", server_b)
        site_screenshot("lesson-04", page_a, page_b, labels=("Tab 1  ·  process A", "Tab 2  ·  process B"),
                        phone_height=470)  # the site's picture, under `make screenshots` only
    finally:
        page_b.close()
