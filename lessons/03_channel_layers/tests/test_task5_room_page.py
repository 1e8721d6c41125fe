"""Task 5: the room page, a browser client that shows text as text (chat/templates/chat/room.html)."""

import uuid

import pytest

from coursekit.pytest_plugin import site_screenshot

from .deadlines import ARRIVE, PAGE_LOAD

pytestmark = pytest.mark.task(5)

ARRIVE_MS = ARRIVE * 1000  # Playwright counts in milliseconds
PAYLOADS = ['<img src=x onerror="window.pwned = 1">', "<script>window.pwned = 2</script>"]
INNER_HTML = ("A message became HTML elements in the log ({elements}): render every frame with textContent, "
              "never innerHTML; messages are written by strangers.")


def test_each_room_has_its_page(client):
    response = client.get("/rooms/lobby/")
    assert response.status_code == 200, f"GET /rooms/lobby/ answered {response.status_code}, expected 200."
    assert b'id="room-name"' in response.content, "The page should hand the room name to its script with json_script."


def test_a_room_name_that_cannot_be_a_group_has_no_page(client):
    response = client.get("/rooms/caf%C3%A9/")
    assert response.status_code == 404, f"GET /rooms/café/ answered {response.status_code}, expected 404."


def text_of(page, role: str) -> str | None:
    return page.evaluate("(role) => document.querySelector(`[data-role=${role}]`)?.textContent", role)


def open_room(page, server, room):
    """The room page, its socket open and its welcome shown; a failure saying what the page did instead."""
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    response = page.goto(f"{server.http_url}/rooms/{room}/", timeout=PAGE_LOAD * 1000)
    if response is None or response.status != 200:
        pytest.fail(f"GET /rooms/{room}/ answered {response and response.status}, expected the room page.",
                    pytrace=False)
    expected_url = f"{server.ws_url}/ws/chat/{room}/"
    try:  # ends as soon as the welcome shows, or the socket closes
        page.wait_for_function("() => document.querySelector('#log li')"
                               " || document.querySelector('[data-role=state]').textContent.startsWith('closed')",
                               timeout=ARRIVE_MS)
    except Exception:  # Playwright's TimeoutError: said below, in words
        pass
    state, problem = text_of(page, "state"), text_of(page, "problem")
    if sockets and expected_url not in sockets:
        pytest.fail(f"The page for room {room!r} opened {sockets}, but the server it came from is at "
                    f"{server.ws_url}: build the URL from window.location.host, never a fixed host.", pytrace=False)
    if state != "open" or not page.locator("#log li").count():
        pytest.fail(f"The page for room {room!r} did not open its socket and show the welcome within "
                    f"{ARRIVE:g} s (socket: {state}; WebSockets it opened: {sockets or 'none'}). "
                    f"The page says: {problem or 'nothing'}", pytrace=False)
    return page


def send(page, text):
    page.fill("#composer input", text)
    page.press("#composer input", "Enter")


def log_lines(page) -> list[str]:
    return page.locator("#log li").all_text_contents()


def html_elements_in_log(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('#log li *')].map((element) => element.tagName)")


def expect_line(reader, text, who, sender):
    """`reader`'s log shows a line holding `text`, which `sender`'s page sent."""
    try:
        reader.wait_for_function("(text) => [...document.querySelectorAll('#log li')]"
                                 ".some((li) => li.textContent.includes(text))", arg=text, timeout=ARRIVE_MS)
        return
    except Exception:  # Playwright's TimeoutError, or the page navigated away: said below, in words
        pass
    if "message=" in sender.url:
        pytest.fail(f"Sending reloaded the page (its address is now {sender.url}): the form was submitted the "
                    "browser's way. Call event.preventDefault() in the submit handler.", pytrace=False)
    errors = [line for line in log_lines(sender) if line.startswith("Error (")]
    if errors:
        pytest.fail(f"The server answered the sender's page with {errors[-1]!r}. Send each message as JSON: "
                    "socket.send(JSON.stringify({message: ...})).", pytrace=False)
    if elements := html_elements_in_log(reader):
        pytest.fail(INNER_HTML.format(elements=", ".join(elements)), pytrace=False)
    pytest.fail(f"{who} never showed {text!r} within {ARRIVE:g} s (its socket: "
                f"{text_of(reader, 'state')}). Its log: {log_lines(reader)}", pytrace=False)


def test_two_pages_in_one_room_chat_and_another_room_sees_nothing(daphne_server, page):
    room = f"page-{uuid.uuid4().hex[:8]}"
    ada = open_room(page, daphne_server, room)
    bob = open_room(page.context.new_page(), daphne_server, room)
    eve = open_room(page.context.new_page(), daphne_server, f"{room}-other")
    send(ada, "hello from ada")
    expect_line(ada, "hello from ada", "Ada's own page", sender=ada)
    expect_line(bob, "hello from ada", "Bob's page (same room)", sender=ada)
    send(bob, "hi ada")
    expect_line(ada, "hi ada", "Ada's page (same room)", sender=bob)
    send(eve, "eve here")
    expect_line(eve, "eve here", "Eve's page", sender=eve)
    leaked = [line for line in log_lines(eve) if "hello from ada" in line or "hi ada" in line]
    assert not leaked, f"A page in another room got messages of the first room: {leaked}"
    tabs = (f"Tab 1  ·  /rooms/{room}/", f"Tab 2  ·  /rooms/{room}/")
    site_screenshot("lesson-03", ada, bob, labels=tabs, phone_height=480)  # under `make screenshots` only
    bob.close()
    eve.close()


def test_html_in_a_message_is_shown_as_text(daphne_server, page):
    room = f"xss-{uuid.uuid4().hex[:8]}"
    ada = open_room(page, daphne_server, room)
    bob = open_room(page.context.new_page(), daphne_server, room)
    for payload in PAYLOADS:
        send(ada, payload)
        expect_line(bob, payload, "Bob's page", sender=ada)
    elements = html_elements_in_log(bob)
    assert not elements, INNER_HTML.format(elements=", ".join(elements))
    assert bob.evaluate("() => window.pwned") is None, "A message ran as code in the page."
    bob.close()
