"""Task 5: the room page, a browser client that shows text as text (chat/templates/chat/room.html)."""

import uuid

import pytest

pytestmark = pytest.mark.task(5)

PAYLOADS = ['<img src=x onerror="window.pwned = 1">', "<script>window.pwned = 2</script>"]


def test_each_room_has_its_page(client):
    response = client.get("/rooms/lobby/")
    assert response.status_code == 200, f"GET /rooms/lobby/ answered {response.status_code}, expected 200."
    assert b'id="room-name"' in response.content, "The page should hand the room name to its script with json_script."


def test_a_room_name_that_cannot_be_a_group_has_no_page(client):
    response = client.get("/rooms/caf%C3%A9/")
    assert response.status_code == 404, f"GET /rooms/café/ answered {response.status_code}, expected 404."


def open_room(page, server, room):
    response = page.goto(f"{server.http_url}/rooms/{room}/")
    if response is None or response.status != 200:
        pytest.fail(f"GET /rooms/{room}/ answered {response and response.status}, expected the room page.", pytrace=False)
    try:
        page.wait_for_function("() => document.querySelector('[data-role=state]').textContent === 'open'"
                               " && document.querySelector('#log li')", timeout=5000)
    except Exception:
        problem = page.evaluate("() => document.querySelector('[data-role=problem]')?.textContent")
        state = page.evaluate("() => document.querySelector('[data-role=state]')?.textContent")
        pytest.fail(f"The page for room {room!r} did not open its socket and show the welcome in 5 s "
                    f"(socket: {state}). The page says: {problem or 'nothing'}", pytrace=False)
    return page


def send(page, text):
    page.fill("#composer input", text)
    page.press("#composer input", "Enter")


def log_lines(page) -> list[str]:
    return page.locator("#log li").all_text_contents()


def wait_for_line(page, text, who):
    try:
        page.wait_for_function("(text) => [...document.querySelectorAll('#log li')]"
                               ".some((li) => li.textContent.includes(text))", arg=text, timeout=3000)
    except Exception:
        pytest.fail(f"{who} never showed {text!r}. Its log: {log_lines(page)}", pytrace=False)


def test_two_pages_in_one_room_chat_and_another_room_sees_nothing(daphne_server, page):
    room = f"page-{uuid.uuid4().hex[:8]}"
    ada = open_room(page, daphne_server, room)
    bob = open_room(page.context.new_page(), daphne_server, room)
    eve = open_room(page.context.new_page(), daphne_server, f"{room}-other")
    send(ada, "hello from ada")
    wait_for_line(bob, "hello from ada", "Bob's page (same room)")
    send(bob, "hi ada")
    wait_for_line(ada, "hi ada", "Ada's page (same room)")
    assert not any("ada" in line for line in log_lines(eve)[1:]), f"A page in another room got: {log_lines(eve)}"
    bob.close()
    eve.close()


def test_html_in_a_message_is_shown_as_text(daphne_server, page):
    room = f"xss-{uuid.uuid4().hex[:8]}"
    ada = open_room(page, daphne_server, room)
    bob = open_room(page.context.new_page(), daphne_server, room)
    for payload in PAYLOADS:
        send(ada, payload)
        wait_for_line(bob, payload, "Bob's page")
    assert bob.locator("#log img, #log script").count() == 0, (
        "A message became HTML elements in the log: render frames with textContent, never innerHTML.")
    assert bob.evaluate("() => window.pwned") is None, "A message ran as code in the page."
    bob.close()
