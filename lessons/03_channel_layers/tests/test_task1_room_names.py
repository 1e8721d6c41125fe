"""Task 1: check room names and frames before trusting them (chat/rooms.py, chat/protocol.py, the consumer's connect)."""

import asyncio
import json
import re

import pytest
from channels.layers import get_channel_layer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.protocol import MAX_MESSAGE_LENGTH, FrameError, read_chat_message
from chat.rooms import MAX_ROOM_NAME_LENGTH, room_name_problem

from .chat_sockets import open_socket, receive_frame

pytestmark = pytest.mark.task(1)

GOOD_NAMES = ["lobby", "Room-42", "team_a.b", "x" * MAX_ROOM_NAME_LENGTH]
BAD_NAMES = ["café", "two words", "semi;colon", "emoji😀", "x" * (MAX_ROOM_NAME_LENGTH + 1), ""]


@pytest.mark.parametrize("name", GOOD_NAMES, ids=lambda name: name[:12])
def test_names_a_group_can_have_pass_the_check(name):
    problem = room_name_problem(name)
    assert problem is None, f"room_name_problem({name!r}) should be None (a valid group name), got {problem!r}."


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda name: name[:12] or "empty")
def test_names_a_group_cannot_have_get_a_reason(name):
    problem = room_name_problem(name)
    assert isinstance(problem, str) and problem, (
        f"room_name_problem({name!r}) should return a sentence saying what is wrong, got {problem!r}.")


async def test_a_word_route_lets_cafe_in_and_group_add_raises():
    # Why the check exists: the tutorial's \w+ accepts "café", and the layer does not.
    assert re.fullmatch(r"\w+", "café"), "In Python, \\w matches é."
    with pytest.raises(TypeError):
        await get_channel_layer().group_add("chat.café", "specific.inmemory!abc")
    assert room_name_problem("café") is not None, "room_name_problem('café') must refuse it before group_add does."


@pytest.mark.parametrize("name", ["café", "semi;colon", "x" * (MAX_ROOM_NAME_LENGTH + 1)], ids=["cafe", "semicolon", "too-long"])
async def test_a_socket_to_a_bad_room_gets_an_error_then_close_code_4400(name):
    communicator = await open_socket(f"/ws/chat/{name}/")
    frame = await receive_frame(communicator, "an error frame explaining the refusal")
    assert frame.get("type") == "error" and frame.get("code") == "bad_room_name" and frame.get("detail"), (
        f'Expected {{"type": "error", "code": "bad_room_name", "detail": "..."}}, got {frame}.')
    close = await communicator.receive_output(timeout=1)
    assert close == {"type": "websocket.close", "code": 4400, "reason": frame["detail"]}, (
        f"After the error frame the socket must close with code 4400 and the detail as reason; got {close}.")
    assert not get_channel_layer().groups, "A refused socket must not join any group."


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (None, "not_text"),
        ("this is not json", "bad_json"),
        ('["a", "list"]', "not_an_object"),
        ('{"text": "hello"}', "missing_message"),
        ('{"message": 42}', "missing_message"),
        ('{"message": "   "}', "missing_message"),
        (json.dumps({"message": "x" * (MAX_MESSAGE_LENGTH + 1)}), "message_too_long"),
    ],
    ids=["binary", "bad-json", "list", "no-message", "number", "blank", "too-long"],
)
def test_a_malformed_frame_raises_frame_error_with_its_code(frame, code):
    with pytest.raises(FrameError) as raised:
        read_chat_message(frame)
    assert raised.value.code == code, f"read_chat_message({frame!r:.40}) should fail with code {code!r}, got {raised.value.code!r}."
    assert raised.value.detail, "A FrameError needs a detail, in words a person understands."


def test_a_good_frame_gives_its_message():
    assert read_chat_message('{"message": "hello <b>all</b>"}') == "hello <b>all</b>"
    assert read_chat_message(json.dumps({"message": "x" * MAX_MESSAGE_LENGTH})) == "x" * MAX_MESSAGE_LENGTH


async def test_a_real_server_refuses_a_bad_room_with_code_4400(daphne_server):
    async with connect(f"{daphne_server.ws_url}/ws/chat/caf%C3%A9/", origin=daphne_server.origin,
                       open_timeout=5) as socket:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert frame.get("code") == "bad_room_name", f"Expected the bad_room_name error frame, got {frame}."
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 5)
    assert socket.close_code == 4400, f"Expected close code 4400, the server closed with {socket.close_code}."
