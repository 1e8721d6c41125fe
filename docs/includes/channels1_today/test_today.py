"""Every "today" example of the page runs on the installed Channels, through the real application."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels.worker import Worker
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client

from channels1_today.asgi import application
from channels1_today.models import ChatMessage, IntegerValue

# Since Channels 4.2 every consumer dispatch closes old database connections: every test needs the db.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


async def connect(path: str, cookie: str | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", f"sessionid={cookie}".encode())] if cookie else [])
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected, f"{path} refused the socket"
    return communicator


async def session_of(username: str, *permissions: str) -> str:
    """The session cookie of a logged-in user, as a browser would send it."""

    def login() -> str:
        user = User.objects.create_user(username, password="pw")
        for codename in permissions:
            user.user_permissions.add(Permission.objects.get(codename=codename))
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    return await sync_to_async(login)()


def test_daphne_comes_first_and_names_the_application():
    assert settings.INSTALLED_APPS[0] == "daphne"
    assert settings.ASGI_APPLICATION == "channels1_today.asgi.application"


async def test_echo_answers_its_own_client():
    echo = await connect("/echo/")
    await echo.send_to(text_data="hello")
    assert await echo.receive_from() == "hello"
    await echo.disconnect()


async def test_a_group_message_reaches_every_member():
    alice, bob = await connect("/chat/"), await connect("/chat/")
    await alice.send_to(text_data="hi")
    assert await alice.receive_from() == "[user] hi"
    assert await bob.receive_from() == "[user] hi"
    await alice.disconnect()
    await bob.disconnect()


async def test_a_room_keeps_its_name_on_self():
    abc, also_abc, xyz = await connect("/rooms/abc/"), await connect("/rooms/abc/"), await connect("/rooms/xyz/")
    await abc.send_to(text_data="one")
    await abc.send_to(text_data="two")
    assert [await also_abc.receive_from(), await also_abc.receive_from()] == ["[user] one", "[user] two"]
    assert await xyz.receive_nothing()
    for communicator in (abc, also_abc, xyz):
        await communicator.disconnect()


async def test_the_user_comes_from_the_session_cookie():
    anonymous = WebsocketCommunicator(application, "/initials/", headers=[ORIGIN])
    connected, _ = await anonymous.connect()
    assert not connected  # daphne answers such a handshake with HTTP 403
    alice = await connect("/initials/", await session_of("alice"))
    anna = await connect("/initials/", await session_of("anna"))
    bob = await connect("/initials/", await session_of("bob"))
    await alice.send_to(text_data="hello a")
    assert await anna.receive_from() == "[user] hello a"
    assert await bob.receive_nothing()
    for communicator in (alice, anna, bob):
        await communicator.disconnect()


async def test_frames_of_one_socket_are_handled_in_order():
    counting = await connect("/counting/")
    for text in ("a", "b", "c"):
        await counting.send_to(text_data=text)
    assert [await counting.receive_from() for _ in range(3)] == ["1: a", "2: b", "3: c"]
    await counting.disconnect()


@pytest.mark.parametrize("channel", ["chat-messages", "chat-messages-sync"])
async def test_the_worker_runs_sync_and_async_channel_consumers(channel):
    """What `manage.py runworker <channel>` runs: Worker(application, channels, layer)."""
    worker = asyncio.create_task(Worker(application, [channel], get_channel_layer()).arun())
    listener = await connect("/rooms/lobby/")
    await get_channel_layer().send(channel, {"type": "save.message", "room": "lobby", "message": "kept"})
    assert await listener.receive_from(timeout=5) == "kept"
    assert await ChatMessage.objects.filter(room="lobby", message="kept").aexists()
    await listener.disconnect()
    worker.cancel()


async def test_a_queued_room_goes_through_the_worker():
    worker = asyncio.create_task(Worker(application, ["chat-messages"], get_channel_layer()).arun())
    room = await connect("/queued/lobby/")
    await room.send_to(text_data="via the worker")
    assert await room.receive_from(timeout=5) == "via the worker"
    await room.disconnect()
    worker.cancel()


async def test_streams_are_demultiplexed():
    streams = await connect("/streams/")
    await streams.send_json_to({"stream": "echo", "payload": {"hello": "world"}})
    assert await streams.receive_json_from() == {"stream": "echo", "payload": {"original_message": {"hello": "world"}}}
    await streams.send_json_to({"stream": "nope", "payload": {}})
    assert (await streams.receive_json_from())["stream"] == "error"
    await streams.disconnect()


async def test_a_saved_value_is_pushed_to_every_stream_socket():
    streams = await connect("/streams/")
    value = await IntegerValue.objects.acreate(name="a", value=1)
    assert await streams.receive_json_from() == {
        "stream": "intval",
        "payload": {"action": "create", "pk": value.pk, "data": {"name": "a", "value": 1}},
    }
    await streams.disconnect()


async def test_a_client_with_the_permission_sets_a_value():
    editor = await connect("/streams/", await session_of("editor", "change_integervalue"))
    watcher = await connect("/streams/")
    await editor.send_json_to({"stream": "intval", "payload": {"name": "b", "value": 3}})
    for communicator in (editor, watcher):
        frame = await communicator.receive_json_from()
        assert frame["payload"]["action"] == "create" and frame["payload"]["data"] == {"name": "b", "value": 3}
    await watcher.send_json_to({"stream": "intval", "payload": {"name": "b", "value": 4}})
    refused = await watcher.receive_json_from()
    assert refused == {"stream": "error", "payload": {"detail": "You may not change values."}}
    assert (await IntegerValue.objects.aget(name="b")).value == 3
    await editor.send_json_to({"stream": "intval", "payload": {"name": "b", "value": "4"}})
    assert await editor.receive_json_from() == {
        "stream": "error",
        "payload": {"detail": 'Send a "name" string and a "value" integer.'},
    }
    for communicator in (editor, watcher):
        await communicator.disconnect()
