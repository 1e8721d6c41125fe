"""Task 5, in a real Chromium: the lesson's page (live/templates/live/index.html) shows the members' socket
refusing a stranger with 4401, then greeting the same browser once it has logged in."""

import pytest
from playwright.sync_api import Error as PlaywrightError

from coursekit.pytest_plugin import site_screenshot
from coursekit.timing import scaled

from .conftest import PASSWORD, USERNAME

pytestmark = pytest.mark.task(5)

SETTLED_MS = scaled(10) * 1000  # every row of the page opened its socket and got its answer, or was refused
ROWS = """() => [...document.querySelectorAll("#sockets tr")].map((row) => {
    const [path, sent, received, state] = [...row.cells].map((cell) => cell.textContent.trim());
    return {path, sent, received, state};
})"""
# The two rows of task 5: the members' socket, and the staff's, which a browser sees refused as 1006.
SETTLED = """(loggedIn) => {
    const row = (path) => [...document.querySelectorAll("#sockets tr")].find((tr) => tr.cells[0].textContent === path);
    const [members, staff] = [row("/ws/members/"), row("/ws/staff/")];
    const closed = (tr) => tr.cells[3].textContent.startsWith("closed");
    return (closed(members) || (loggedIn && members.cells[2].textContent !== "")) && closed(staff);
}"""


def rows(page) -> dict[str, dict]:
    """What the page shows for each socket path (the last row of a path, for /ws/commands/, which has two)."""
    return {row["path"]: row for row in page.evaluate(ROWS)}


def open_the_page(page, server, logged_in: bool) -> dict[str, dict]:
    response = page.goto(f"{server.http_url}/")
    if response is None or not response.ok:
        pytest.fail(f"GET / answered {response and response.status}: the lesson's page did not load.", pytrace=False)
    try:
        page.wait_for_function(SETTLED, arg=logged_in, timeout=SETTLED_MS)
    except PlaywrightError:  # said below, in words, with what the rows show
        pass
    return rows(page)


def describe(row: dict) -> str:
    received = repr(row["received"]) if row["received"] else "nothing"
    return f"it received {received} and reads {row['state']!r}"


def server_said(server) -> str:
    return "The server's last lines:\n" + "\n".join(server.output().splitlines()[-3:])


def test_the_page_shows_a_stranger_refused_then_a_member_greeted(daphne_with_users, page):
    seen = open_the_page(page, daphne_with_users, logged_in=False)
    members, staff = seen["/ws/members/"], seen["/ws/staff/"]
    if '"not_logged_in"' not in members["received"] or members["state"] != "closed, code 4401":
        pytest.fail("Before logging in, the page's /ws/members/ row should show the not_logged_in error, then "
                    f"'closed, code 4401'; {describe(members)}. Accept, send the error, close with NOT_LOGGED_IN.\n"
                    f"{server_said(daphne_with_users)}", pytrace=False)
    if staff["received"] or staff["state"] != "closed, code 1006":
        pytest.fail("A stranger's /ws/staff/ socket must be refused in the handshake (a browser then reports "
                    f"close code 1006, with nothing received); {describe(staff)}. Raise DenyConnection.",
                    pytrace=False)

    # The same browser logs in through the lesson's login page, which brings it back to the page.
    page.click("text=Log in")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{daphne_with_users.http_url}/")
    seen = open_the_page(page, daphne_with_users, logged_in=True)
    members, staff = seen["/ws/members/"], seen["/ws/staff/"]
    if '"hello"' not in members["received"] or f'"{USERNAME}"' not in members["received"] or members["state"] != "open":
        pytest.fail(f"Logged in as {USERNAME}, the page's /ws/members/ row should show a hello naming {USERNAME}, its "
                    f"socket open; {describe(members)}.", pytrace=False)
    if staff["state"] != "closed, code 1006":
        pytest.fail(f"{USERNAME} is not staff: her /ws/staff/ socket must still be refused; {describe(staff)}.",
                    pytrace=False)
    site_screenshot("lesson-02", page)  # the site's picture, under `make screenshots` only
