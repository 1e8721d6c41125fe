"""Task 3: dispatch JSON messages on their type, with an error reply for bad input (live/consumers/commands.py)."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from live.consumers.commands import CommandConsumer

from .sockets import next_json, open_socket

pytestmark = pytest.mark.task(3)

commands = CommandConsumer.as_asgi()


async def ask(communicator, text: str | None = None, data: bytes | None = None) -> dict:
    # send_input, not send_to: send_to refuses an empty string, and "" is a frame a client can send.
    frame = {"type": "websocket.receive", "text": text} if data is None else {"type": "websocket.receive", "bytes": data}
    await communicator.send_input(frame)
    return await next_json(communicator, "CommandConsumer", f"a JSON reply to {text if data is None else data!r}")


async def test_ping_gets_pong():
    communicator = await open_socket(commands, "/ws/commands/")
    assert await ask(communicator, '{"type": "ping"}') == {"type": "pong"}
    await communicator.disconnect()


async def test_add_gets_the_sum():
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, json.dumps({"type": "add", "a": 2, "b": 0.5}))
    assert reply == {"type": "sum", "value": 2.5}, f"Expected {{'type': 'sum', 'value': 2.5}}; got {reply!r}."
    await communicator.disconnect()


BAD_INPUT = [
    pytest.param("not json", "bad_json", id="malformed-json"),
    pytest.param("", "bad_json", id="empty-text"),
    pytest.param('{"type": "ping"', "bad_json", id="truncated-json"),
    pytest.param("[1, 2]", "bad_frame", id="a-list"),
    pytest.param('"ping"', "bad_frame", id="a-string"),
    pytest.param("null", "bad_frame", id="null"),
    pytest.param('{"a": 1}', "invalid", id="no-type"),
    pytest.param('{"type": 7}', "invalid", id="type-not-a-string"),
    pytest.param('{"type": "dance"}', "unknown_type", id="unknown-type"),
    pytest.param('{"type": "add", "a": 1}', "invalid", id="missing-field"),
    pytest.param('{"type": "add", "a": "1", "b": 2}', "invalid", id="field-not-a-number"),
    pytest.param('{"type": "add", "a": true, "b": 2}', "invalid", id="field-a-boolean"),
    pytest.param('{"type": "add", "a": 1e999, "b": 2}', "invalid", id="field-infinite"),
    pytest.param('{"type": "add", "a": NaN, "b": 2}', "invalid", id="field-nan"),
]


@pytest.mark.parametrize("text, code", BAD_INPUT)
async def test_bad_input_gets_an_error_reply_and_the_socket_stays_open(text, code):
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, text)
    assert reply.get("type") == "error" and reply.get("code") == code, (
        f"For the frame {text!r} expected {{'type': 'error', 'code': {code!r}, 'detail': ...}}; got {reply!r}.")
    assert isinstance(reply.get("detail"), str) and reply["detail"], "An error reply needs a 'detail' text for people."
    assert await ask(communicator, '{"type": "ping"}') == {"type": "pong"}, (
        f"After the bad frame {text!r} the socket must stay open and keep answering.")
    await communicator.disconnect()


async def test_a_binary_frame_gets_an_error_reply_and_the_socket_stays_open():
    communicator = await open_socket(commands, "/ws/commands/")
    reply = await ask(communicator, data=b'{"type": "ping"}')
    assert reply.get("type") == "error" and reply.get("code") == "bad_frame", (
        f"A binary frame should get {{'type': 'error', 'code': 'bad_frame', ...}}; got {reply!r}.")
    assert await ask(communicator, '{"type": "ping"}') == {"type": "pong"}
    await communicator.disconnect()


async def test_a_real_client_survives_garbage(daphne_with_users):
    async with connect(f"{daphne_with_users.ws_url}/ws/commands/", origin=daphne_with_users.origin, open_timeout=5) as socket:
        for frame, code in (("{oops", "bad_json"), (b"\x00\x01", "bad_frame"), ('{"type": "dance"}', "unknown_type")):
            await socket.send(frame)
            reply = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert reply.get("code") == code, f"The real server answered {frame!r} with {reply!r}."
        await socket.send('{"type": "add", "a": 40, "b": 2}')
        assert json.loads(await asyncio.wait_for(socket.recv(), 5)) == {"type": "sum", "value": 42}
