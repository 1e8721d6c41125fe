"""Task 3: dispatch JSON messages on their type, with an error reply for bad input (live/consumers/commands.py)."""

import json

import pytest

from live.consumers.commands import CommandConsumer

from .live import real_socket, receive_real_json
from .sockets import leave, next_json, open_socket

pytestmark = pytest.mark.task(3)

commands = CommandConsumer.as_asgi()


async def ask(communicator, text: str | None = None, data: bytes | None = None, why: str = "") -> dict:
    # send_input, not send_to: send_to refuses an empty string, and "" is a frame a client can send.
    frame = {"type": "websocket.receive", "text": text} if data is None else {"type": "websocket.receive", "bytes": data}
    await communicator.send_input(frame)
    return await next_json(communicator, "CommandConsumer", f"a JSON reply to {text if data is None else data!r}",
                           hint=why)


async def test_ping_gets_pong():
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, '{"type": "ping"}')
    assert reply == {"type": "pong"}, f"Expected {{'type': 'pong'}}; got {reply!r}."
    await leave(communicator, "CommandConsumer")


async def test_add_gets_the_sum():
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, json.dumps({"type": "add", "a": 2, "b": 0.5}))
    assert reply == {"type": "sum", "value": 2.5}, f"Expected {{'type': 'sum', 'value': 2.5}}; got {reply!r}."
    await leave(communicator, "CommandConsumer")


NOT_JSON = "Text that is not JSON gets bad_json: catch the ValueError that self.decode_json() raises."
NOT_AN_OBJECT = "JSON that is not an object gets bad_frame: check isinstance(content, dict) first."
FIELD = ("A known type with a missing or wrong field gets invalid: catch InvalidMessage around the "
         "handler call and reply with str(problem).")
BAD_INPUT = [
    pytest.param("not json", "bad_json", NOT_JSON, id="malformed-json"),
    pytest.param("", "bad_json", '"" is text that is not JSON: bad_json. A binary frame is `text_data is None`; '
                 "a truthiness test (`if not text_data`) takes the empty text for one.", id="empty-text"),
    pytest.param('{"type": "ping"', "bad_json", NOT_JSON, id="truncated-json"),
    pytest.param("[1, 2]", "bad_frame", NOT_AN_OBJECT, id="a-list"),
    pytest.param('"ping"', "bad_frame", NOT_AN_OBJECT, id="a-string"),
    pytest.param("null", "bad_frame", NOT_AN_OBJECT, id="null"),
    pytest.param('{"a": 1}', "invalid", 'An object without a "type" gets invalid.', id="no-type"),
    pytest.param('{"type": 7}', "invalid", 'A "type" that is not a string gets invalid: check '
                 "isinstance(kind, str), not its truthiness.", id="type-not-a-string"),
    pytest.param('{"type": "dance"}', "unknown_type", 'A "type" no handler knows gets unknown_type: look it up '
                 "with self.handlers().get(kind), which gives None, not [kind], which raises.", id="unknown-type"),
    pytest.param('{"type": "add", "a": 1}', "invalid", FIELD, id="missing-field"),
    pytest.param('{"type": "add", "a": "1", "b": 2}', "invalid", FIELD, id="field-not-a-number"),
    pytest.param('{"type": "add", "a": true, "b": 2}', "invalid", FIELD, id="field-a-boolean"),
    pytest.param('{"type": "add", "a": 1e999, "b": 2}', "invalid", FIELD, id="field-infinite"),
    pytest.param('{"type": "add", "a": NaN, "b": 2}', "invalid", FIELD, id="field-nan"),
]


@pytest.mark.parametrize("text, code, why", BAD_INPUT)
async def test_bad_input_gets_an_error_reply_and_the_socket_stays_open(text, code, why):
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, text, why=why)
    assert reply.get("type") == "error" and reply.get("code") == code, (
        f"For the frame {text!r} expected {{'type': 'error', 'code': {code!r}, 'detail': ...}}; got {reply!r}. {why}")
    assert isinstance(reply.get("detail"), str) and reply["detail"], "An error reply needs a 'detail' text for people."
    after = await ask(communicator, '{"type": "ping"}',
                      why=f"After the bad frame {text!r} the socket must stay open and keep answering.")
    assert after == {"type": "pong"}, f"After the bad frame {text!r}, a ping got {after!r} instead of a pong."
    await leave(communicator, "CommandConsumer")


async def test_a_binary_frame_gets_an_error_reply_and_the_socket_stays_open():
    why = "A binary frame (text_data is None) gets bad_frame."
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, data=b'{"type": "ping"}', why=why)
    assert reply.get("type") == "error" and reply.get("code") == "bad_frame", (
        f"A binary frame should get {{'type': 'error', 'code': 'bad_frame', ...}}; got {reply!r}.")
    assert await ask(communicator, '{"type": "ping"}') == {"type": "pong"}, "After a binary frame, a ping got no pong."
    await leave(communicator, "CommandConsumer")


async def test_a_real_client_survives_garbage(daphne_with_users):
    async with real_socket(daphne_with_users, "/ws/commands/") as socket:
        for frame, code in (("{oops", "bad_json"), (b"\x00\x01", "bad_frame"), ('{"type": "dance"}', "unknown_type")):
            await socket.send(frame)
            reply = await receive_real_json(socket, f"an error reply to {frame!r}")
            assert reply.get("code") == code, f"The real server answered {frame!r} with {reply!r}; expected {code}."
        await socket.send('{"type": "add", "a": 40, "b": 2}')
        reply = await receive_real_json(socket, "the sum 42")
        assert reply == {"type": "sum", "value": 42}, f"After the garbage, 40 + 2 got {reply!r}."
