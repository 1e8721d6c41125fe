"""Task 5: one page, the clock both ways: HTTP polling (clock/views.py) and a WebSocket (the page's script)."""

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from coursekit.pytest_plugin import site_screenshot
from coursekit.timing import scaled

pytestmark = pytest.mark.task(5)

NOT_YET = "--:--:--"  # what a clock shows before its first tick
PART = "((role) => document.querySelector(`#websocket [data-role=${role}]`).textContent)"  # in the page


def test_the_time_endpoint_answers_with_a_tick(client):
    response = client.get("/api/time/")
    assert response.status_code == 200, f"GET /api/time/ answered {response.status_code}, expected 200."
    assert response["Content-Type"] == "application/json", (
        f"GET /api/time/ must answer JSON; its Content-Type was {response['Content-Type']!r}. Use JsonResponse.")
    tick = response.json()
    if isinstance(tick, str):
        pytest.fail(f"GET /api/time/ answered a JSON string, {response.content[:60]!r}..., not an object: the tick "
                    "was encoded twice. Give JsonResponse the dict itself, JsonResponse(tick()).", pytrace=False)
    assert tick.get("type") == "tick", f"Expected the same JSON as a WebSocket tick; got {tick!r}."
    age = datetime.now(timezone.utc) - datetime.fromisoformat(tick["time"])
    assert timedelta(0) <= age < timedelta(seconds=scaled(5)), f"The time {tick['time']} is not now."


def test_the_time_endpoint_forbids_caching(client):
    response = client.get("/api/time/")
    header = response.get("Cache-Control")
    if "no-store" not in (header or ""):
        pytest.fail("A cached answer would freeze the polling clock: send Cache-Control: no-store "
                    f"({f'it was {header!r}' if header else 'there was none'}).", pytrace=False)


def test_each_poll_gets_a_new_time(client):
    first = client.get("/api/time/").json()["time"]
    time.sleep(0.01)  # ticks count milliseconds: two polls this far apart must differ
    second = client.get("/api/time/").json()["time"]
    assert second > first, (f"Two polls 10 ms apart both answered {first}: make the tick inside the view, "
                            "on every request, not once.")


# --- the page, in a real Chromium ------------------------------------------------------------

def ms(seconds: float) -> float:
    return seconds * 1000


def load_page(page, server) -> list[str]:
    """Open the lesson's page on `server`; return the list that fills with the URL of every socket it opens."""
    opened: list[str] = []
    page.on("websocket", lambda socket: opened.append(socket.url))
    url = f"{server.http_url}/"
    try:
        response, problem = page.goto(url, timeout=ms(scaled(20))), None
    except PlaywrightError as error:
        response, problem = None, str(error).splitlines()[0]
    if problem is not None:
        pytest.fail(f"The browser could not load {url}: {problem}", pytrace=False)
    if response is not None and not response.ok:
        why = ""
        if "No application configured for scope type 'http'" in server.output():
            why = (" daphne says: No application configured for scope type 'http'. The ProtocolTypeRouter in "
                   "clocksite/asgi.py needs an \"http\" route to Django, \"http\": get_asgi_application().")
        pytest.fail(f"GET {url} answered {response.status}: the page itself could not load.{why}", pytrace=False)
    return opened


def panel_text(page, clock: str, role: str) -> str:
    """The text of one part of a clock panel: clock "websocket" or "polling", role "time", "count", ..."""
    return page.locator(f"#{clock} [data-role={role}]").text_content(timeout=ms(scaled(2))) or ""


def wait_for_script(page, condition: str, seconds: float) -> bool:
    try:
        page.wait_for_function(f"() => {condition}", timeout=ms(seconds))
    except PlaywrightError:
        return False
    return True


def check_the_socket_address(opened: list[str], server) -> None:
    """The page's socket goes to /ws/clock/ on the host that served the page, whatever that host is."""
    if not opened:
        return
    url, expected = opened[0], f"{server.ws_url}/ws/clock/"
    served_from, went_to = urlsplit(server.http_url).netloc, urlsplit(url).netloc
    if went_to != served_from:
        pytest.fail(f"The page opened a WebSocket to {url}, but it was served from {served_from}: build the "
                    "address from the page's own host, window.location.host, so that it works wherever the page "
                    "is served.", pytrace=False)
    if url != expected:
        pytest.fail(f"The page opened a WebSocket to {url}; the clock is at {expected} (the route ends with a "
                    "slash).", pytrace=False)


def test_the_page_shows_both_clocks_ticking(daphne_server, page):
    opened = load_page(page, daphne_server)
    check_the_socket_address(opened, daphne_server)  # the page's script opens its socket as it loads
    seconds = scaled(5)
    # Three ticks, or an early sign that none will come: a problem shown, or the socket closed.
    in_time = wait_for_script(page, f"Number({PART}('count')) >= 3 || {PART}('problem') !== '' "
                                    f"|| {PART}('state').startsWith('closed')", seconds)
    check_the_socket_address(opened, daphne_server)  # even with ticks: they may come from another server
    count = panel_text(page, "websocket", "count")
    if not count.isdigit() or int(count) < 3:
        opened_what = "its socket is" if opened else "it opened no WebSocket; its state reads"
        pytest.fail(f"The WebSocket clock did not count 3 ticks{'' if in_time else f' within {seconds:.0f} s'}: "
                    f"it counted {count or 'nothing'}, {opened_what} {panel_text(page, 'websocket', 'state')!r}, "
                    f"and the page says: {panel_text(page, 'websocket', 'problem') or 'nothing'}", pytrace=False)
    shown = panel_text(page, "websocket", "time")
    if shown in (NOT_YET, "Invalid Date"):
        pytest.fail(f"The WebSocket clock counted ticks but shows {shown!r}: a message's data is JSON text, and "
                    "JSON.parse(event.data) gives the tick to show.", pytrace=False)
    state = panel_text(page, "websocket", "state")
    if state != "open":
        pytest.fail(f"Ticks arrive, but the socket's state reads {state!r}: show 'open' when the socket opens "
                    "(panel.state).", pytrace=False)
    polled = wait_for_script(page, f"document.querySelector('#polling [data-role=time]').textContent !== '{NOT_YET}'",
                             seconds)
    problem = panel_text(page, "polling", "problem")
    if not polled or problem:
        pytest.fail(f"The polling clock showed no time within {seconds:.0f} s. The page says: {problem or 'nothing'}",
                    pytrace=False)
    site_screenshot("lesson-01", page)  # the site's picture, under `make screenshots` only
