"""Task 2: join, leave and talk in a room group (chat/consumers.py)."""

import json
import uuid

import pytest
from channels.layers import get_channel_layer

from chat.rooms import group_name_for

from .chat_sockets import (assert_received_nothing, hang_up, join_room, open_socket, receive_frame, say,
                           send_text)
from .server_clients import next_real_frame, real_socket

pytestmark = pytest.mark.task(2)


async def test_a_valid_room_accepts_and_welcomes_the_member():
    communicator = await open_socket("/ws/chat/lobby/")
    welcome = await receive_frame(communicator, "the welcome frame")
    assert welcome.get("type") == "welcome" and welcome.get("room") == "lobby", f"Got {welcome}."
    await hang_up(communicator)


async def test_joining_adds_the_socket_to_the_room_group():
    communicator, _ = await join_room("lobby")
    groups = get_channel_layer().groups
    assert groups, ("After one socket joined room 'lobby', the layer has no group at all: connect() must call "
                    "await self.channel_layer.group_add(self.group_name, self.channel_name).")
    members = groups.get(group_name_for("lobby"), {})
    assert len(members) == 1, (
        f"After one socket joined room 'lobby', group {group_name_for('lobby')!r} should have 1 channel; it has "
        f"{len(members)}. The layer's groups: {sorted(groups)}. Join the group named by group_name_for(room_name) "
        "(self.group_name): the group that group_send and the announcements use.")
    await hang_up(communicator)


async def test_a_message_goes_to_the_room_group(layer_calls):
    ada, ada_name = await join_room("lobby")
    await say(ada, "hello, room")
    call = await layer_calls.expect(
        "group_send", group_name_for("lobby"), "chat.message", by="receive()", sender=ada,
        purpose="A message for the room goes through the layer, so that every member gets it, not straight down "
                "the sender's socket.")
    assert call.event == {"type": "chat.message", "from": ada_name, "message": "hello, room"}, (
        f'The event should be {{"type": "chat.message", "from": {ada_name!r}, "message": "hello, room"}}; '
        f"got {call.event}.")
    await hang_up(ada)


async def test_two_clients_in_one_room_both_receive():
    ada, ada_name = await join_room("lobby")
    bob, _ = await join_room("lobby")
    await say(ada, "hello, room")
    for who, communicator in (("The sender", ada), ("The other member", bob)):
        frame = await receive_frame(communicator, f"{who.lower()}'s copy of the message")
        assert frame == {"type": "chat.message", "from": ada_name, "message": "hello, room"}, (
            f'{who} should get {{"type": "chat.message", "from": {ada_name!r}, "message": "hello, room"}}; got {frame}.')
    await hang_up(ada)
    await hang_up(bob)


async def test_the_server_names_the_sender_whatever_the_frame_says():
    ada, ada_name = await join_room("lobby")
    await say(ada, "trust me", **{"from": "the-admin"})
    frame = await receive_frame(ada, "the sender's copy of the message")
    assert frame.get("from") == ada_name, (
        f'The frame claimed "from": "the-admin", and the room was told the sender is {frame.get("from")!r}. '
        f"A client can claim any name: the sender's name comes from the server (self.member_name, here "
        f"{ada_name!r}), never from the frame.")
    await hang_up(ada)


async def test_a_client_in_another_room_receives_nothing():
    ada, _ = await join_room("lobby")
    eve, _ = await join_room("kitchen")
    await say(ada, "lobby only")
    await receive_frame(ada, "the sender's own copy")
    await assert_received_nothing(eve, "A member of another room")
    await hang_up(ada)
    await hang_up(eve)


async def test_a_disconnected_client_is_removed_from_its_group():
    ada, _ = await join_room("lobby")
    bob, _ = await join_room("lobby")
    await hang_up(bob)
    members = get_channel_layer().groups.get(group_name_for("lobby"), {})
    assert len(members) <= 1, (
        f"After one of two members left, the group should hold 1 channel; it holds {len(members)}. "
        "Call group_discard in disconnect().")
    assert members, "The group should still hold the member who stayed; it is empty. Did both join it (group_add)?"
    await hang_up(ada)
    assert group_name_for("lobby") not in get_channel_layer().groups, (
        "After everyone left, the group should be gone: call group_discard in disconnect().")


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"text": "hi"}', json.dumps({"message": "x" * 501})],
                         ids=["bad-json", "list", "no-message", "too-long"])
async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_open(frame):
    ada, _ = await join_room("lobby")
    await send_text(ada, frame)
    error = await receive_frame(ada, "an error frame")
    assert error.get("type") == "error" and error.get("code"), f'Expected {{"type": "error", "code": ...}}, got {error}.'
    await say(ada, "still here")
    frame = await receive_frame(ada, "the next message, after the error")
    assert frame.get("message") == "still here", f"After an error the socket must keep working; got {frame}."
    await hang_up(ada)


async def test_ordinary_websocket_clients_chat_through_a_real_server(daphne_server):
    room = f"real-{uuid.uuid4().hex[:8]}"
    path = f"/ws/chat/{room}/"
    async with real_socket(daphne_server, path) as ada, real_socket(daphne_server, path) as bob, \
            real_socket(daphne_server, f"/ws/chat/{room}-elsewhere/") as eve:
        for who, socket in (("Ada", ada), ("Bob", bob), ("Eve", eve)):
            welcome = await next_real_frame(socket, f"the welcome frame on {who}'s socket")
            assert welcome.get("type") == "welcome", f"The first frame must be the welcome; {who} got {welcome}."
        await ada.send(json.dumps({"message": "hi bob"}))
        await bob.send(json.dumps({"message": "hi ada"}))
        for who, socket in (("Ada", ada), ("Bob", bob)):
            got = {(await next_real_frame(socket, f"both messages on {who}'s socket"))["message"] for _ in range(2)}
            assert got == {"hi bob", "hi ada"}, f"Each member should see both messages; {who} saw {got}."
        await eve.send(json.dumps({"message": "eve here"}))
        frame = await next_real_frame(eve, "Eve's own message, in the other room")
        assert frame.get("message") == "eve here", (
            f"A member of another room should have received nothing, but got {frame}.")
