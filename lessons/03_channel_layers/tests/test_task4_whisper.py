"""Task 4: whisper to one member through its channel_name (ChatConsumer.whisper in chat/consumers.py)."""

import pytest
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from chat import members
from chat.rooms import group_name_for

from .chat_sockets import assert_received_nothing, hang_up, join_room, receive_frame, say

pytestmark = pytest.mark.task(4)


async def test_a_whisper_reaches_only_its_member(layer_calls):
    ada, ada_name = await join_room("lobby")
    bob, bob_name = await join_room("lobby")
    cid, _ = await join_room("lobby")
    await say(ada, f"/whisper {bob_name} psst, bob")
    await layer_calls.expect("send", members.channel_of("lobby", bob_name), "chat.whisper",
                             by="whisper()", purpose="whisper() sends to that member's channel_name.", sender=ada)
    frame = await receive_frame(bob, "the whisper, on Bob's socket")
    assert frame == {"type": "chat.whisper", "from": ada_name, "message": "psst, bob"}, (
        f'Bob should get {{"type": "chat.whisper", "from": {ada_name!r}, "message": "psst, bob"}}; got {frame}.')
    receipt = await receive_frame(ada, "the whisper.sent receipt, on Ada's socket")
    assert receipt == {"type": "whisper.sent", "to": bob_name, "message": "psst, bob"}, (
        f'Ada should get the receipt {{"type": "whisper.sent", "to": {bob_name!r}, "message": "psst, bob"}}; '
        f"got {receipt}.")
    await assert_received_nothing(cid, "A third member of the room",
                                  why="A whisper goes to one channel with channel_layer.send, not to the group.")
    for member in (ada, bob, cid):
        await hang_up(member)


@pytest.mark.parametrize(("command", "code", "about"),
                         [("/whisper nobody hello", "no_such_member", "a name that is not in the room"),
                          ("/whisper lonely-name", "bad_whisper", "a name but no text")],
                         ids=["unknown-name", "no-text"])
async def test_a_whisper_that_cannot_be_sent_gets_an_error(command, code, about):
    ada, _ = await join_room("lobby")
    await say(ada, command)
    frame = await receive_frame(ada, f"an error with code {code!r} for {command!r}, a whisper with {about}")
    assert frame.get("type") == "error" and frame.get("code") == code, (
        f'Expected {{"type": "error", "code": {code!r}, ...}} for {command!r}, a whisper with {about}; got {frame}.')
    await hang_up(ada)


async def stalled_member(room: str, name: str) -> str:
    """A member whose consumer reads nothing: its channel fills up to the layer's capacity."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group_name_for(room), channel)
    members.join(room, name, channel)
    for number in range(layer.capacity):
        await layer.send(channel, {"type": "chat.message", "from": "x", "message": str(number)})
    return channel


async def test_a_whisper_to_a_full_channel_says_it_was_not_delivered():
    ada, _ = await join_room("lobby")
    await stalled_member("lobby", "sleepy")
    await say(ada, "/whisper sleepy are you there?")
    frame = await receive_frame(ada, "an error with code 'not_delivered'")
    assert frame.get("type") == "error" and frame.get("code") == "not_delivered", (
        f"send() raises ChannelFull when the member's queue is full; tell the sender. Got {frame}.")
    await hang_up(ada)


async def test_send_raises_channel_full_where_group_send_drops_silently():
    # The layer's own promise, shown: the same full channel, two different answers.
    layer = get_channel_layer()
    channel = await stalled_member("lobby", "sleepy")
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "chat.message", "from": "x", "message": "one more"})
    await layer.group_send(group_name_for("lobby"), {"type": "chat.message", "from": "x", "message": "lost"})
    ada, _ = await join_room("lobby")
    await say(ada, "the room still works")
    frame = await receive_frame(ada, "Ada's own message")
    assert frame.get("message") == "the room still works", f"Ada should get her own message; got {frame}."
    await hang_up(ada)
