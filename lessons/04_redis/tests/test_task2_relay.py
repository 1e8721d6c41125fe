"""Task 2: relay a room's messages through the channel layer (chat/consumers.py), in one process and across two."""

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from .chat_clients import next_frame, open_chat, real_frame

pytestmark = pytest.mark.task(2)


async def test_two_clients_in_one_room_both_receive(layer_name):
    alice, bob = await open_chat("lobby"), await open_chat("lobby")
    await alice.send_json_to({"text": "hello"})
    expected = {"type": "message", "room": "lobby", "text": "hello"}
    assert await next_frame(alice, "Alice's own message back") == expected
    assert await next_frame(bob, f"Alice's message at Bob's socket ({layer_name} layer)") == expected
    await alice.disconnect()
    await bob.disconnect()


async def test_a_message_stays_in_its_room(layer_name):
    alice, carol = await open_chat("lobby"), await open_chat("kitchen")
    await alice.send_json_to({"text": "lobby only"})
    await next_frame(alice, "Alice's own message back")
    assert await carol.receive_nothing(timeout=0.3), "A message sent to 'lobby' reached a socket in 'kitchen'."
    await alice.disconnect()
    await carol.disconnect()


async def test_a_message_without_text_gets_an_error_frame(layer_name):
    alice = await open_chat("lobby")
    for bad in ({"txt": "typo"}, ["text"], {"text": "   "}, {"text": 42}):
        await alice.send_json_to(bad)
        frame = await next_frame(alice, f"an error frame for {bad!r}")
        assert frame.get("code") == "bad_message", f"{bad!r} must get code 'bad_message'; got {frame!r}."
    await alice.send_to(text_data="not json")
    frame = await next_frame(alice, "an error frame for a frame that is not JSON")
    assert frame.get("code") == "bad_json", frame
    await alice.disconnect()


async def exchange(server_a, server_b, room: str) -> tuple[dict, dict | None]:
    """Alice on process A sends; return what Alice got back and what Bob on process B got (None: nothing)."""
    async with connect(f"{server_a.ws_url}/ws/chat/{room}/", origin=server_a.origin, open_timeout=5) as alice, \
            connect(f"{server_b.ws_url}/ws/chat/{room}/", origin=server_b.origin, open_timeout=5) as bob:
        await alice.send(json.dumps({"text": "from process A"}))
        echoed = await real_frame(alice, "Alice's own message back from process A")
        try:
            return echoed, json.loads(await asyncio.wait_for(bob.recv(), 1))
        except TimeoutError:
            return echoed, None


async def test_two_processes_sharing_redis_relay_each_others_messages(start_daphne, redis_url):
    started = time.monotonic()
    env = {"CHANNEL_LAYER": "redis", "REDIS_URL": redis_url}
    server_a, server_b = start_daphne(env=env), start_daphne(env=env)
    echoed, at_bob = await exchange(server_a, server_b, "two-processes")
    assert at_bob == echoed, (
        f"Bob, connected to process B, should get what Alice sent to process A through Redis; got {at_bob!r}.")
    print(f"two daphne processes started and relayed a message in {time.monotonic() - started:.2f} s")


async def test_two_processes_on_the_in_memory_layer_cannot_talk(start_daphne):
    server_a, server_b = start_daphne(env={"CHANNEL_LAYER": "memory"}), start_daphne(env={"CHANNEL_LAYER": "memory"})
    echoed, at_bob = await exchange(server_a, server_b, "no-broker")
    assert echoed["text"] == "from process A"
    assert at_bob is None, "Two processes on the in-memory layer share nothing, yet Bob received Alice's message."
