"""Two people in two real Chromium contexts: sign up, meet in a room, chat, survive a dropped socket."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .live import PASSWORD

XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold?</b>'


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
    expect(page).to_have_url(f"{server.http_url}/")


def online_names(page):
    return page.locator("#online li")


def test_two_users_chat_see_presence_and_typing_and_survive_a_dropped_socket(browser, page, memory_server, request):
    server = memory_server
    # Carol signs up and creates a room.
    sign_up(page, server, "carol")
    page.fill("#id_name", "lounge")
    page.click("#new-room button[type=submit]")
    expect(page).to_have_url(f"{server.http_url}/rooms/lounge/")
    expect(page.locator("#status")).to_have_text("online")

    # Dave, in another browser context (his own cookies), signs up, logs out, logs in, joins.
    dave_context = browser.new_context()
    dave = dave_context.new_page()
    try:
        sign_up(dave, server, "dave")
        dave.click("text=Log out")
        expect(dave).to_have_url(re.compile(r"/accounts/login/"))
        dave.fill("#id_username", "dave")
        dave.fill("#id_password", PASSWORD)
        dave.click("button[type=submit]")
        dave.click("text=lounge")
        expect(dave.locator("#status")).to_have_text("online")

        # Presence and the join notice.
        expect(online_names(page)).to_have_text(["carol (you)", "dave"])
        expect(online_names(dave)).to_have_text(["carol", "dave (you)"])
        expect(page.locator("#messages .notice")).to_have_text(["dave joined"])

        # Typing shows, then goes away by itself.
        dave.type("#text", "hi")
        expect(page.locator("#typing")).to_have_text("dave is typing…")
        expect(page.locator("#typing")).to_have_text("", timeout=5000)

        # Chat both ways.
        dave.fill("#text", "hello carol")
        dave.press("#text", "Enter")
        expect(page.locator("#messages .message .text")).to_have_text(["hello carol"])
        page.fill("#text", XSS)
        page.press("#text", "Enter")
        expect(dave.locator("#messages .message .text").last).to_have_text(XSS)
        assert dave.locator("#messages img, #messages script, #messages b").count() == 0
        assert dave.evaluate("window.pwned") is None
        dave.wait_for_timeout(2100)  # the client sends "typing" at most every 2 s
        dave.type("#text", "typing again")
        expect(page.locator("#typing")).to_have_text("dave is typing…")
        page.screenshot(path=artifacts(request) / "room_two_users_carol.png")
        dave.fill("#text", "")

        # Dave's socket drops and the network stays away while carol writes three messages.
        dave_context.set_offline(True)
        dave.evaluate("window.chat.socket.close()")
        expect(dave.locator("#status")).to_contain_text("reconnecting")
        for n in range(3):
            page.fill("#text", f"while you were away {n}")
            page.press("#text", "Enter")
        expect(page.locator("#messages .message.pending")).to_have_count(0)
        expect(page.locator("#messages .message .text")).to_have_count(5)
        assert dave.locator("text=while you were away").count() == 0, "offline, yet the messages arrived live"
        dave_context.set_offline(False)
        expect(dave.locator("#status")).to_have_text("online", timeout=15000)
        texts = dave.locator("#messages .message .text")
        expect(texts).to_have_text(["hello carol", XSS] + [f"while you were away {n}" for n in range(3)])
        dave.screenshot(path=artifacts(request) / "room_after_reconnect_dave.png")
    finally:
        dave_context.close()


def test_a_message_written_while_offline_is_sent_once_after_reconnecting(browser, page, memory_server):
    server = memory_server
    sign_up(page, server, "erin")
    page.goto(f"{server.http_url}/rooms/general/")
    expect(page.locator("#status")).to_have_text("online")
    page.context.set_offline(True)
    page.evaluate("window.chat.socket.close()")
    expect(page.locator("#status")).to_contain_text("reconnecting")
    page.fill("#text", "written offline")
    page.press("#text", "Enter")
    expect(page.locator("#messages .message.pending")).to_have_count(1)
    page.context.set_offline(False)
    expect(page.locator("#status")).to_have_text("online", timeout=15000)
    expect(page.locator("#messages .message.pending")).to_have_count(0)
    expect(page.locator("#messages .message", has_text="written offline")).to_have_count(1)
    page.reload()  # what the server stored: once
    expect(page.locator("#messages .message", has_text="written offline")).to_have_count(1)
