"""Task 5: one page, the clock both ways: HTTP polling (clock/views.py) and a WebSocket (the page's script)."""

import time
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.task(5)


def test_the_time_endpoint_answers_with_a_tick(client):
    response = client.get("/api/time/")
    assert response.status_code == 200, f"GET /api/time/ answered {response.status_code}, expected 200."
    tick = response.json()
    assert tick["type"] == "tick", f"Expected the same JSON as a WebSocket tick; got {tick!r}."
    age = datetime.now(timezone.utc) - datetime.fromisoformat(tick["time"])
    assert timedelta(0) <= age < timedelta(seconds=5), f"The time {tick['time']} is not now."


def test_the_time_endpoint_forbids_caching(client):
    response = client.get("/api/time/")
    assert "no-store" in response.get("Cache-Control", ""), (
        "A cached answer would freeze the polling clock: send Cache-Control: no-store.")


def test_each_poll_gets_a_new_time(client):
    first = client.get("/api/time/").json()["time"]
    time.sleep(0.01)
    second = client.get("/api/time/").json()["time"]
    assert second > first, "Two polls 10 ms apart returned the same time."


def test_the_page_shows_both_clocks_ticking(daphne_server, page):
    page.goto(f"{daphne_server.http_url}/")
    pushed = page.locator("#websocket")
    polled = page.locator("#polling")
    try:
        page.wait_for_function(
            "() => Number(document.querySelector('#websocket [data-role=count]').textContent) >= 3",
            timeout=5000)
    except Exception:
        problem = pushed.locator("[data-role=problem]").text_content()
        pytest.fail(f"The WebSocket clock did not get 3 ticks in 5 s. The page says: {problem or 'nothing'}")
    assert pushed.locator("[data-role=state]").text_content() == "open"
    assert pushed.locator("[data-role=time]").text_content() != "--:--:--"
    page.wait_for_function(
        "() => document.querySelector('#polling [data-role=time]').textContent !== '--:--:--'", timeout=5000)
    assert polled.locator("[data-role=problem]").text_content() == ""
