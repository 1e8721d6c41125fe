"""Task 1: check room names and frames before trusting them (chat/rooms.py, chat/protocol.py, the consumer's connect)."""

import json
import re

import pytest
from channels.layers import get_channel_layer

from chat.protocol import MAX_MESSAGE_LENGTH, FrameError, read_chat_message
from chat.rooms import MAX_ROOM_NAME_LENGTH, room_name_problem

from .chat_sockets import hang_up, open_socket, receive_close, receive_frame
from .server_clients import next_real_frame, real_close_code, real_socket

pytestmark = pytest.mark.task(1)

GOOD_NAMES = {
    "lobby": "lower-case letters",
    "Room-42": "capitals, digits and '-'",
    "team_a.b": "'_' and '.'",
    "x" * MAX_ROOM_NAME_LENGTH: f"exactly MAX_ROOM_NAME_LENGTH ({MAX_ROOM_NAME_LENGTH}) characters: "
                                "the limit itself is allowed",
}
# Each bad name but the empty one and the long one starts with good characters: only a check of
# every character (fullmatch) refuses them all. (Test ids in ASCII, so that any shell can select them.)
BAD_NAMES = {"cafe": "café", "space": "two words", "semicolon": "semi;colon", "emoji": "emoji😀",
             "too-long": "x" * (MAX_ROOM_NAME_LENGTH + 1), "empty": ""}


@pytest.mark.parametrize("name", GOOD_NAMES, ids=lambda name: name[:12])
def test_names_a_group_can_have_pass_the_check(name):
    problem = room_name_problem(name)
    assert problem is None, (
        f"room_name_problem({name!r}) should be None ({GOOD_NAMES[name]}), got {problem!r}.")


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_names_a_group_cannot_have_get_a_reason(name):
    problem = room_name_problem(name)
    assert isinstance(problem, str) and problem, (
        f"room_name_problem({name!r}) should return a sentence saying what is wrong, got {problem!r}. "
        "Every character must be allowed: check the whole name with fullmatch, not only its start (match).")


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
    close = await receive_close(communicator, "the socket to close with code 4400 after the error frame")
    assert close == {"type": "websocket.close", "code": 4400, "reason": frame["detail"]}, (
        f"After the error frame the socket must close with code 4400 and the detail as reason; got {close}.")
    await hang_up(communicator, doing=f"connecting to the refused room {name[:12]!r}; connect() must return "
                                      "right after self.refuse(...)")
    assert not get_channel_layer().groups, "A refused socket must not join any group."


# (frame, the code it must be refused with, why that frame is refused)
MALFORMED_FRAMES = {
    "binary": (None, "not_text", "a binary frame arrives as text_data=None"),
    "bad-json": ("this is not json", "bad_json",
                 "json.loads raises JSONDecodeError on it: catch that and raise FrameError('bad_json', ...)"),
    "list": ('["a", "list"]', "not_an_object", "it is JSON, but not an object"),
    "no-message": ('{"text": "hello"}', "missing_message", 'it has no "message" key'),
    "number": ('{"message": 42}', "missing_message",
               "42 is truthy but it is not text: check isinstance(message, str), not only truthiness"),
    "blank": ('{"message": "   "}', "missing_message", "'   ' is truthy but blank: check message.strip()"),
    "too-long": (json.dumps({"message": "x" * (MAX_MESSAGE_LENGTH + 1)}), "message_too_long",
                 f"the message has more than MAX_MESSAGE_LENGTH ({MAX_MESSAGE_LENGTH}) characters"),
}


def what_read_chat_message_does(frame) -> tuple[str | None, str]:
    """(the FrameError code it raised, or None; what it did, in words)."""
    try:
        message = read_chat_message(frame)
    except FrameError as error:
        return error.code, f"raised FrameError with code {error.code!r} and detail {error.detail!r}"
    except Exception as error:
        return None, f"raised {type(error).__name__}: {error}"
    return None, f"returned {message!r}"


@pytest.mark.parametrize("case", MALFORMED_FRAMES)
def test_a_malformed_frame_raises_frame_error_with_its_code(case):
    frame, code, why = MALFORMED_FRAMES[case]
    raised, outcome = what_read_chat_message_does(frame)
    assert raised == code, (
        f"read_chat_message({frame!r:.40}) should raise FrameError({code!r}, detail): {why}. It {outcome}.")
    with pytest.raises(FrameError) as error:
        read_chat_message(frame)
    assert error.value.detail, "A FrameError needs a detail, in words a person understands."


def test_a_good_frame_gives_its_message():
    for message, about in [("hello <b>all</b>", "an ordinary message"),
                           ("x" * MAX_MESSAGE_LENGTH, f"a message of exactly MAX_MESSAGE_LENGTH ({MAX_MESSAGE_LENGTH}) "
                                                      "characters: the limit itself is allowed")]:
        raised, outcome = what_read_chat_message_does(json.dumps({"message": message}))
        assert outcome == f"returned {message!r}", f"read_chat_message should return {about}. It {outcome:.200}."


async def test_a_real_server_refuses_a_bad_room_with_code_4400(daphne_server):
    async with real_socket(daphne_server, "/ws/chat/caf%C3%A9/") as socket:
        frame = await next_real_frame(socket, "the bad_room_name error frame")
        assert frame.get("code") == "bad_room_name", f"Expected the bad_room_name error frame, got {frame}."
        code = await real_close_code(socket, "the server to close the socket with code 4400")
    assert code == 4400, f"Expected close code 4400, the server closed with {code}."
