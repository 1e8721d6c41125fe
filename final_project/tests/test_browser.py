"""Two people in two real Chromium contexts: sign up, meet in a room, chat, survive a dropped socket."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from coursekit.pytest_plugin import site_screenshot
from coursekit.timing import scaled

from .live import PASSWORD, in_database

XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold?</b>'
EVENT_WAIT_MS = scaled(5) * 1000  # what the page should show soon
PAGE_WAIT_MS = scaled(30) * 1000  # a page load, a click that loads one
RECONNECT_WAIT_MS = scaled(15) * 1000  # the client backs off up to 10 s between attempts
# Every frame the page sends, kept in the page (window.sentFrames) for the tests to read.
RECORD_SENT_FRAMES = """
window.sentFrames = [];
const sendFrame = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.sentFrames.push(JSON.parse(data));
  return sendFrame.call(this, data);
};
"""


@pytest.fixture(autouse=True)
def scaled_waits(page):
    """Playwright's waits are deadlines too: scaled by COURSE_TIME_SCALE like every other wait."""
    expect.set_options(timeout=EVENT_WAIT_MS)
    page.set_default_timeout(PAGE_WAIT_MS)


class Network:
    """The network between a browser context and the chat: it can go away and come back.

    The context's WebSockets pass through Playwright, which drops them at once when the network goes. Chromium's
    own offline mode keeps an open WebSocket, and a close() while offline waits up to 60 s for its handshake.
    """

    def __init__(self, context):
        self.context, self.up, self.sockets = context, True, []
        context.route_web_socket(re.compile(r"/ws/"), self.route)

    def route(self, socket) -> None:
        if self.up:
            socket.connect_to_server()
            self.sockets.append(socket)
        else:
            socket.close(code=1001)  # unreachable: the page retries with its back-off

    def go_away(self) -> None:
        self.up = False
        self.context.set_offline(True)
        for socket in self.sockets:
            socket.close(code=1001)
        self.sockets.clear()

    def come_back(self) -> None:
        self.context.set_offline(False)
        self.up = True


def artifacts(request) -> Path:
    folder = Path(os.environ.get("COURSE_ARTIFACTS", request.config.rootpath / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_up(page, server, username: str) -> None:
    page.goto(f"{server.http_url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.http_url}/", timeout=PAGE_WAIT_MS)


def enter_general(page, server, username: str) -> None:
    sign_up(page, server, username)
    page.goto(f"{server.http_url}/rooms/general/")
    expect(page.locator("#status")).to_have_text("online")


def say(page, text: str) -> None:
    """Send `text` and wait for the server's acknowledgement."""
    page.fill("#text", text)
    page.press("#text", "Enter")
    expect(page.locator("#messages .message.pending"), "the server never acknowledged the message").to_have_count(0)


def online_names(page):
    return page.locator("#online li")


def test_two_users_chat_see_presence_and_typing_and_survive_a_dropped_socket(browser, page, memory_server, request):
    server = memory_server
    # Carol signs up and creates a room.
    sign_up(page, server, "carol")
    page.fill("#id_name", "lounge")
    page.click("#new-room button[type=submit]")
    expect(page).to_have_url(f"{server.http_url}/rooms/lounge/", timeout=PAGE_WAIT_MS)
    expect(page.locator("#status")).to_have_text("online")

    # Dave, in another browser context (his own cookies), signs up, logs out, logs in, joins.
    dave_context = browser.new_context()
    dave_context.set_default_timeout(PAGE_WAIT_MS)
    daves_network = Network(dave_context)
    dave = dave_context.new_page()
    try:
        sign_up(dave, server, "dave")
        dave.click("text=Log out")
        expect(dave).to_have_url(re.compile(r"/accounts/login/"), timeout=PAGE_WAIT_MS)
        dave.fill("#id_username", "dave")
        dave.fill("#id_password", PASSWORD)
        dave.click("button[type=submit]")
        dave.click("text=lounge")
        expect(dave.locator("#status")).to_have_text("online")

        # Presence and the join notice.
        expect(online_names(page)).to_have_text(["carol (you)", "dave"])
        expect(online_names(dave)).to_have_text(["carol", "dave (you)"])
        expect(page.locator("#messages .notice")).to_have_text(["dave joined"])

        # Typing shows, and dave's message clears it.
        typing = page.locator("#typing")
        dave.type("#text", "hi")
        expect(typing).to_have_text("dave is typing…")
        dave.fill("#text", "hello carol")
        dave.press("#text", "Enter")
        expect(page.locator("#messages .message .text")).to_have_text(["hello carol"])
        expect(typing, "dave's message arrived, yet carol still reads that he is typing").to_have_text("")

        # Chat both ways.
        say(page, "hello dave")
        expect(dave.locator("#messages .message .text").last).to_have_text("hello dave")
        # Not a deadline: the client sends "typing" at most every 2 s, so the next one needs 2 s to pass.
        dave.wait_for_timeout(2100)
        dave.type("#text", "typing again")
        expect(typing).to_have_text("dave is typing…")
        page.screenshot(path=artifacts(request) / "room_two_users_carol.png")
        windows = ("carol  ·  /rooms/lounge/", "dave, in another browser  ·  /rooms/lounge/")
        site_screenshot("final-chat", page, dave, labels=windows)  # the site's picture, under `make screenshots` only
        dave.fill("#text", "")

        # Dave's socket drops and the network stays away while carol writes three messages.
        daves_network.go_away()
        expect(dave.locator("#status")).to_contain_text("reconnecting")
        for n in range(3):
            say(page, f"while you were away {n}")
        expect(page.locator("#messages .message .text")).to_have_count(5)
        assert dave.locator("text=while you were away").count() == 0, "offline, yet the messages arrived live"
        daves_network.come_back()
        expect(dave.locator("#status")).to_have_text("online", timeout=RECONNECT_WAIT_MS)
        texts = dave.locator("#messages .message .text")
        expect(texts, "After reconnecting, dave's page does not show what was said while he was away (each "
                      "message once, in order)").to_have_text(
            ["hello carol", "hello dave"] + [f"while you were away {n}" for n in range(3)])
        dave.screenshot(path=artifacts(request) / "room_after_reconnect_dave.png")
        # Dave never sent what he typed: the notice went away by itself, 3 s after it came.
        expect(typing).to_have_text("", timeout=EVENT_WAIT_MS + 3000)
    finally:
        dave_context.close()


def test_html_in_a_message_is_shown_as_text_and_never_runs(page, memory_server):
    enter_general(page, memory_server, "frank")
    say(page, XSS)
    made = page.evaluate("[...document.querySelectorAll('#messages img, #messages script, #messages b')]"
                         ".map(element => element.tagName.toLowerCase())")
    pwned = page.evaluate("window.pwned")  # set by the message's onerror handler, if it ran
    text = page.locator("#messages .message .text").last.text_content()
    ran = "" if pwned is None else ", and its onerror handler ran"
    assert not made and pwned is None and text == XSS, (
        f"A message's HTML became part of the page (it made the elements {made}{ran}; the text reads {text!r}): "
        "put text from the server in the page with textContent, never innerHTML.")


def test_a_reconnect_asks_only_for_what_came_after_the_last_message_seen(page, memory_server):
    page.add_init_script(RECORD_SENT_FRAMES)
    enter_general(page, memory_server, "grace")
    say(page, "said before the drop")
    page.reload()  # the message is now part of the page's history: seen, with nothing missing before it
    expect(page.locator("#status")).to_have_text("online")
    last_seen = page.evaluate("Math.max(...window.chat.shown.keys())")
    page.evaluate("window.chat.socket.close()")
    page.wait_for_function("window.sentFrames.filter(frame => frame.type === 'sync').length >= 2",
                           timeout=RECONNECT_WAIT_MS)
    asked = page.evaluate("window.sentFrames.filter(frame => frame.type === 'sync')")[-1]
    assert asked == {"type": "sync", "after": last_seen}, (
        f"After reconnecting, the page sent {asked}, though it had every message up to id {last_seen}: send the "
        "last id seen, or each reconnect replays the whole room.")


def test_a_message_whose_broadcast_was_lost_is_fetched_once_a_later_one_shows_the_gap(page, memory_server):
    page.add_init_script(RECORD_SENT_FRAMES)
    enter_general(page, memory_server, "heidi")
    say(page, "before the lost one")
    before = page.evaluate("Math.max(...window.chat.shown.keys())")
    # Stored, never broadcast: what the page sees when the layer drops a broadcast (a full channel).
    in_database(memory_server.env, "from django.contrib.auth.models import User\nfrom rooms.models import Message, Room\n"
                "Message.store(Room.objects.get(slug='general'), User.objects.get(username='heidi'), "
                "'the lost one', 'lost-1')")
    say(page, "after the lost one")  # numbered one past the lost message: the page now sees a gap
    expect(page.locator("#messages .message .text", has_text=re.compile("^the lost one$")),
           f"The page showed ids up to {before} and then {before + 2}, but never asked for {before + 1}: a gap in the "
           "numbers means a message was missed; after a short wait, sync from the last gapless id").to_have_count(
        1, timeout=scaled(10) * 1000)
    texts = page.locator("#messages .message .text").all_inner_texts()
    assert texts[-3:] == ["before the lost one", "the lost one", "after the lost one"], texts
    syncs = page.evaluate("window.sentFrames.filter(frame => frame.type === 'sync')")
    assert syncs[-1] == {"type": "sync", "after": before}, syncs


def test_a_message_written_while_offline_is_sent_once_after_reconnecting(browser, page, memory_server):
    network = Network(page.context)
    enter_general(page, memory_server, "erin")
    network.go_away()
    expect(page.locator("#status")).to_contain_text("reconnecting")
    page.fill("#text", "written offline")
    page.press("#text", "Enter")
    expect(page.locator("#messages .message.pending")).to_have_count(1)
    network.come_back()
    expect(page.locator("#status")).to_have_text("online", timeout=RECONNECT_WAIT_MS)
    expect(page.locator("#messages .message.pending"),
           "The message written offline was never acknowledged after the reconnect: resend it with the same "
           "client_id, so that the server's answer matches it").to_have_count(0)
    written = page.locator("#messages .message", has_text="written offline")
    expect(written, "The message written offline is shown more than once").to_have_count(1)
    page.reload()  # what the server stored: once
    expect(written, "The server stored the message written offline more than once: a resend keeps the same "
                    "client_id").to_have_count(1)


# Every error frame the page receives, kept in the page (window.errorFrames) for the tests to read.
RECORD_ERROR_FRAMES = """
window.errorFrames = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeWebSocket(...args);
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "error") window.errorFrames.push(frame);
  });
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
"""


@pytest.fixture(scope="module")
def paced_server(start_daphne, tmp_path_factory):
    """A server whose rate limit is 2 messages per second, so that pacing shows in seconds, not tens."""
    from .live import prepare_database

    env = prepare_database(tmp_path_factory.mktemp("paced-db"))
    return start_daphne(env={**env, "CHAT_RATE_LIMIT": "2/1"})


def test_messages_written_offline_are_sent_under_the_rate_limit_after_reconnecting(page, paced_server):
    page.add_init_script(RECORD_ERROR_FRAMES)
    network = Network(page.context)
    enter_general(page, paced_server, "heidi")
    network.go_away()
    expect(page.locator("#status")).to_contain_text("reconnecting")
    for n in range(7):  # more than the server takes at once
        page.fill("#text", f"offline {n}")
        page.press("#text", "Enter")
    network.come_back()
    expect(page.locator("#status")).to_have_text("online", timeout=RECONNECT_WAIT_MS)
    expect(page.locator("#messages .message.pending"), "Not every message written offline was acknowledged").to_have_count(
        0, timeout=EVENT_WAIT_MS + 4000)  # 7 messages at 2 a second: about 4 s of pacing
    expect(page.locator("#messages .message .text")).to_have_text([f"offline {n}" for n in range(7)])
    refused = page.evaluate("window.errorFrames")
    assert refused == [], (f"The page sent faster than the server's rate limit after reconnecting, and was refused: "
                           f"{refused[:2]}. Pace what is pending under the limit (config.rateLimit).")


def test_a_message_the_server_refuses_is_marked_and_never_sent_again(page, memory_server):
    page.add_init_script(RECORD_SENT_FRAMES)
    enter_general(page, memory_server, "ivan")
    # The input's maxlength stops a person; a pasted script or another client may not be stopped.
    page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    page.fill("#text", "y" * 2001)
    page.press("#text", "Enter")
    refused = page.locator("#messages .message.refused")
    expect(refused, "The server refused the message (too_long), and the page did not mark it").to_have_count(1)
    expect(refused.locator(".why")).to_contain_text("at most 2000 characters")
    assert page.evaluate("window.chat.pending.size") == 0, (
        "A refused message stayed pending: the page would resend it every 5 s forever. The error frame names "
        "its client_id: drop it from pending.")
