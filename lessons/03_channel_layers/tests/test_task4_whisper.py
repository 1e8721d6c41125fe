"""Task 4: whisper to one member through its channel_name (ChatConsumer.whisper in chat/consumers.py)."""

import pytest
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from chat import members
from chat.rooms import group_name_for

from .chat_sockets import assert_receives_nothing, join_room, receive_frame, say

pytestmark = pytest.mark.task(4)


async def test_a_whisper_reaches_only_its_member():
    ada, ada_name = await join_room("lobby")
    bob, bob_name = await join_room("lobby")
    cid, _ = await join_room("lobby")
    await say(ada, f"/whisper {bob_name} psst, bob")
    frame = await receive_frame(bob, "the whisper, on Bob's socket")
    assert frame == {"type": "chat.whisper", "from": ada_name, "message": "psst, bob"}, (
        f'Bob should get {{"type": "chat.whisper", "from": {ada_name!r}, "message": "psst, bob"}}; got {frame}.')
    receipt = await receive_frame(ada, "the whisper.sent receipt, on Ada's socket")
    assert receipt == {"type": "whisper.sent", "to": bob_name, "message": "psst, bob"}, f"Ada should get a receipt; got {receipt}."
    await assert_receives_nothing(cid, "A third member of the room")
    for member in (ada, bob, cid):
        await member.disconnect()


@pytest.mark.parametrize(("command", "code"), [("/whisper nobody hello", "no_such_member"),
                                               ("/whisper lonely-name", "bad_whisper")],
                         ids=["unknown-name", "no-text"])
async def test_a_whisper_that_cannot_be_sent_gets_an_error(command, code):
    ada, _ = await join_room("lobby")
    await say(ada, command)
    frame = await receive_frame(ada, f"an error with code {code!r}")
    assert frame.get("type") == "error" and frame.get("code") == code, (
        f'Expected {{"type": "error", "code": {code!r}, ...}} for {command!r}; got {frame}.')
    await ada.disconnect()


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
    await ada.disconnect()


async def test_send_raises_channel_full_where_group_send_drops_silently():
    # The layer's own promise, shown: the same full channel, two different answers.
    layer = get_channel_layer()
    channel = await stalled_member("lobby", "sleepy")
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "chat.message", "from": "x", "message": "one more"})
    await layer.group_send(group_name_for("lobby"), {"type": "chat.message", "from": "x", "message": "lost"})
    ada, _ = await join_room("lobby")
    await say(ada, "the room still works")
    assert (await receive_frame(ada, "Ada's own message"))["message"] == "the room still works"
    await ada.disconnect()
