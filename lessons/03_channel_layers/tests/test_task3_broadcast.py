"""Task 3: broadcast from outside a consumer: a model signal and an HTTP view (chat/broadcast.py,
chat/signals.py, chat/views.py, the consumer's chat_announcement)."""

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from websockets.asyncio.client import connect

from chat.models import Announcement

from .chat_sockets import assert_receives_nothing, join_room, receive_frame

pytestmark = pytest.mark.task(3)

TOKEN = "a-test-token"


@pytest.fixture
def notice_token(settings):
    settings.NOTICE_TOKEN = TOKEN


async def post_notice(room, body, token=TOKEN):
    return await AsyncClient().post(f"/rooms/{room}/notices/", body, content_type="application/json",
                                    headers={"Authorization": f"Bearer {token}"})


def in_a_worker_thread(function):
    """Run ORM code the way a sync view does: in a thread, with this test's event loop reachable
    for async_to_sync. Not the consumers' own thread (thread_sensitive=False): a test database
    connection left open there would break later tests that have no database access."""
    return sync_to_async(function, thread_sensitive=False)


def expect_announcement(frame, message):
    assert frame == {"type": "chat.announcement", "message": message}, (
        f'Expected {{"type": "chat.announcement", "message": {message!r}}}; got {frame}.')


async def test_a_new_announcement_reaches_every_socket_in_its_room(transactional_db):
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    eve, _ = await join_room("kitchen")
    await in_a_worker_thread(Announcement.objects.create)(room_name="lobby", message="Tea at five")
    for who, member in (("Ada", ada), ("Bob", bob)):
        expect_announcement(await receive_frame(member, f"the announcement, on {who}'s socket"), "Tea at five")
    await assert_receives_nothing(eve, "A member of another room")
    for member in (ada, bob, eve):
        await member.disconnect()


async def test_editing_an_announcement_does_not_send_it_again(transactional_db):
    ada, _ = await join_room("lobby")
    announcement = await in_a_worker_thread(Announcement.objects.create)(room_name="lobby", message="v1")
    await receive_frame(ada, "the new announcement")
    announcement.message = "v2"
    await in_a_worker_thread(announcement.save)()
    await assert_receives_nothing(ada, "A member, after an announcement was only edited,")
    await ada.disconnect()


async def test_the_notice_view_reaches_every_socket_in_the_room(notice_token):
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    response = await post_notice("lobby", {"message": "Deploy in 5 minutes"})
    assert response.status_code == 202, f"POST /rooms/lobby/notices/ answered {response.status_code}, expected 202."
    for who, member in (("Ada", ada), ("Bob", bob)):
        expect_announcement(await receive_frame(member, f"the notice, on {who}'s socket"), "Deploy in 5 minutes")
    await ada.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize(
    ("room", "body", "token", "status"),
    [
        ("lobby", {"message": "hi"}, "wrong-token", 401),
        ("café", {"message": "hi"}, TOKEN, 404),
        ("lobby", {"text": "hi"}, TOKEN, 400),
        ("lobby", {"message": "x" * 501}, TOKEN, 400),
    ],
    ids=["bad-token", "bad-room", "no-message", "too-long"],
)
async def test_the_notice_view_refuses_what_it_cannot_send(notice_token, room, body, token, status):
    ada, _ = await join_room("lobby")
    response = await post_notice(room, body, token)
    assert response.status_code == status, f"Expected {status}, got {response.status_code}: {response.content!r}"
    assert response.json().get("type") == "error", f"The refusal should be a JSON error; got {response.content!r}."
    await assert_receives_nothing(ada, "A member, after a refused notice,")
    await ada.disconnect()


async def test_the_notice_view_only_takes_post(notice_token):
    response = await AsyncClient().get("/rooms/lobby/notices/")
    assert response.status_code == 405, f"GET on the notice endpoint answered {response.status_code}, expected 405."


def post_to_server(url: str, message: str) -> int:
    request = urllib.request.Request(url, data=json.dumps({"message": message}).encode(), method="POST",
                                     headers={"Authorization": "Bearer test-token",  # from pytest.ini
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def test_a_notice_posted_to_a_real_server_reaches_an_ordinary_client(daphne_server):
    room = f"notice-{uuid.uuid4().hex[:8]}"
    async with connect(f"{daphne_server.ws_url}/ws/chat/{room}/", origin=daphne_server.origin,
                       open_timeout=5) as socket:
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "welcome"
        status = await asyncio.to_thread(post_to_server, f"{daphne_server.http_url}/rooms/{room}/notices/", "hello all")
        assert status == 202, f"The real server answered the notice POST with {status}, expected 202."
        expect_announcement(json.loads(await asyncio.wait_for(socket.recv(), 5)), "hello all")
