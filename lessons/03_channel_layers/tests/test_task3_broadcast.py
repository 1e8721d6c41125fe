"""Task 3: broadcast from outside a consumer: a model signal and an HTTP view (chat/broadcast.py,
chat/signals.py, chat/views.py, the consumer's chat_announcement)."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import AsyncClient

from chat.models import Announcement
from chat.rooms import group_name_for

from .chat_sockets import assert_received_nothing, hang_up, join_room, receive_frame
from .server_clients import next_real_frame, post_json, real_socket

pytestmark = pytest.mark.task(3)

TOKEN = "a-test-token"
SERVER_TOKEN = "test-token"  # the real server's NOTICE_TOKEN, from pytest.ini


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


async def test_a_new_announcement_reaches_every_socket_in_its_room(transactional_db, layer_calls):
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    eve, _ = await join_room("kitchen")
    await in_a_worker_thread(Announcement.objects.create)(room_name="lobby", message="Tea at five")
    await layer_calls.expect("group_send", group_name_for("lobby"), "chat.announcement",
                             by="Saving a new Announcement (the post_save receiver, through announce_to_room)",
                             purpose="announce_to_room(room_name, message) sends it to the room's group.")
    for who, member in (("Ada", ada), ("Bob", bob)):
        expect_announcement(await receive_frame(member, f"the announcement, on {who}'s socket"), "Tea at five")
    await assert_received_nothing(eve, "A member of another room")
    for member in (ada, bob, eve):
        await hang_up(member)


async def test_editing_an_announcement_does_not_send_it_again(transactional_db):
    ada, _ = await join_room("lobby")
    announcement = await in_a_worker_thread(Announcement.objects.create)(room_name="lobby", message="v1")
    await receive_frame(ada, "the new announcement")
    announcement.message = "v2"
    await in_a_worker_thread(announcement.save)()
    await assert_received_nothing(ada, "A member, after an announcement was only edited,",
                                  why="post_save runs on every save, edits too: announce only when created is True.")
    await hang_up(ada)


async def test_an_announcement_rolled_back_is_never_sent(transactional_db):
    ada, _ = await join_room("lobby")

    def create_then_roll_back():
        with transaction.atomic():
            Announcement.objects.create(room_name="lobby", message="this never happened")
            transaction.set_rollback(True)

    await in_a_worker_thread(create_then_roll_back)()
    await assert_received_nothing(
        ada, "A member, after the announcement's transaction was rolled back,",
        why="post_save runs inside the transaction, before it commits: announce in "
            "transaction.on_commit(...), so that a save that is rolled back is never announced.")
    await hang_up(ada)


async def test_the_notice_view_reaches_every_socket_in_the_room(notice_token):
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    response = await post_notice("lobby", {"message": "Deploy in 5 minutes"})
    assert response.status_code == 202, (
        f"POST /rooms/lobby/notices/ answered {response.status_code}, expected 202 Accepted: the layer took the "
        "notice, and it promises no delivery.")
    assert response.json() == {"type": "notice.sent", "room": "lobby"}, (
        f'The answer should be {{"type": "notice.sent", "room": "lobby"}}; got {response.content!r}.')
    for who, member in (("Ada", ada), ("Bob", bob)):
        expect_announcement(await receive_frame(member, f"the notice, on {who}'s socket"), "Deploy in 5 minutes")
    await hang_up(ada)
    await hang_up(bob)


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
    await assert_received_nothing(ada, "A member, after a refused notice,")
    await hang_up(ada)


async def test_the_notice_view_only_takes_post(notice_token):
    response = await AsyncClient().get("/rooms/lobby/notices/")
    assert response.status_code == 405, f"GET on the notice endpoint answered {response.status_code}, expected 405."


async def test_a_notice_posted_to_a_real_server_reaches_an_ordinary_client(daphne_server):
    room = f"notice-{uuid.uuid4().hex[:8]}"
    async with real_socket(daphne_server, f"/ws/chat/{room}/") as socket:
        welcome = await next_real_frame(socket, "the welcome frame")
        assert welcome.get("type") == "welcome", f"The first frame must be the welcome; got {welcome}."
        status = await asyncio.to_thread(post_json, f"{daphne_server.http_url}/rooms/{room}/notices/",
                                         {"message": "hello all"}, SERVER_TOKEN)
        assert status == 202, f"The real server answered the notice POST with {status}, expected 202."
        expect_announcement(await next_real_frame(socket, "the notice, on the client's socket"), "hello all")
