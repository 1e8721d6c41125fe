"""Task 2: join, leave and talk in a room group (chat/consumers.py)."""

import asyncio
import json
import uuid

import pytest
from channels.layers import get_channel_layer
from websockets.asyncio.client import connect

from chat.rooms import group_name_for

from .chat_sockets import assert_receives_nothing, join_room, open_socket, receive_frame, say

pytestmark = pytest.mark.task(2)


async def test_a_valid_room_accepts_and_welcomes_the_member():
    communicator = await open_socket("/ws/chat/lobby/")
    welcome = await receive_frame(communicator, "the welcome frame")
    assert welcome.get("type") == "welcome" and welcome.get("room") == "lobby", f"Got {welcome}."
    await communicator.disconnect()


async def test_joining_adds_the_socket_to_the_room_group():
    communicator, _ = await join_room("lobby")
    members = get_channel_layer().groups.get(group_name_for("lobby"), {})
    assert len(members) == 1, f"After one socket joined, group {group_name_for('lobby')!r} should have 1 channel; it has {len(members)}."
    await communicator.disconnect()


async def test_two_clients_in_one_room_both_receive():
    ada, ada_name = await join_room("lobby")
    bob, _ = await join_room("lobby")
    await say(ada, "hello, room")
    for who, communicator in (("The sender", ada), ("The other member", bob)):
        frame = await receive_frame(communicator, f"{who.lower()}'s copy of the message")
        assert frame == {"type": "chat.message", "from": ada_name, "message": "hello, room"}, (
            f'{who} should get {{"type": "chat.message", "from": {ada_name!r}, "message": "hello, room"}}; got {frame}.')
    await ada.disconnect()
    await bob.disconnect()


async def test_a_client_in_another_room_receives_nothing():
    ada, _ = await join_room("lobby")
    eve, _ = await join_room("kitchen")
    await say(ada, "lobby only")
    await receive_frame(ada, "the sender's own copy")
    await assert_receives_nothing(eve, "A member of another room")
    await ada.disconnect()
    await eve.disconnect()


async def test_a_disconnected_client_is_removed_from_its_group():
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    await bob.disconnect()
    members = get_channel_layer().groups.get(group_name_for("lobby"), {})
    assert len(members) == 1, (
        f"After one of two members left, the group should hold 1 channel; it holds {len(members)}. "
        "Call group_discard in disconnect().")
    await ada.disconnect()
    assert group_name_for("lobby") not in get_channel_layer().groups, "After everyone left, the group should be gone."


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"text": "hi"}', json.dumps({"message": "x" * 501})],
                         ids=["bad-json", "list", "no-message", "too-long"])
async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_open(frame):
    ada, _ = await join_room("lobby")
    await ada.send_to(text_data=frame)
    error = await receive_frame(ada, "an error frame")
    assert error.get("type") == "error" and error.get("code"), f'Expected {{"type": "error", "code": ...}}, got {error}.'
    await say(ada, "still here")
    frame = await receive_frame(ada, "the next message, after the error")
    assert frame.get("message") == "still here", f"After an error the socket must keep working; got {frame}."
    await ada.disconnect()


async def test_ordinary_websocket_clients_chat_through_a_real_server(daphne_server):
    room = f"real-{uuid.uuid4().hex[:8]}"
    url = f"{daphne_server.ws_url}/ws/chat/{room}/"

    async def next_frame(socket) -> dict:
        return json.loads(await asyncio.wait_for(socket.recv(), 5))

    async with connect(url, origin=daphne_server.origin, open_timeout=5) as ada, \
            connect(url, origin=daphne_server.origin, open_timeout=5) as bob, \
            connect(f"{url[:-1]}-elsewhere/", origin=daphne_server.origin, open_timeout=5) as eve:
        for socket in (ada, bob, eve):
            assert (await next_frame(socket))["type"] == "welcome"
        await ada.send(json.dumps({"message": "hi bob"}))
        await bob.send(json.dumps({"message": "hi ada"}))
        for socket in (ada, bob):
            got = {(await next_frame(socket))["message"] for _ in range(2)}
            assert got == {"hi bob", "hi ada"}, f"Each member should see both messages; got {got}."
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(eve.recv(), 0.2)
