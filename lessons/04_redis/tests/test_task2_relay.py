"""Task 2: relay a room's messages through the channel layer (chat/consumers.py), in one process and across two."""

import asyncio
import json
import time
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as redis

from coursekit.servers import RedisServer
from coursekit.timing import scaled

from .chat_clients import (ARRIVES, QUIET, chat_socket, daphne_processes, described, layer_settings, leave, next_event,
                           next_frame, nothing_arrives, open_chat, open_real_chat, real_frame)

pytestmark = pytest.mark.task(2)


def check_chat_frame(frame: dict, expected: dict, who: str) -> None:
    if frame == expected:
        return
    if frame.get("type") == "chat.message":
        pytest.fail(f"{who} got the layer's event as it is, {frame!r}. The event's type names its handler; the "
                    f"client speaks the chat's protocol: chat_message must send {expected!r}.", pytrace=False)
    pytest.fail(f"{who} should get {expected!r}; got {frame!r}.", pytrace=False)


async def test_two_clients_in_one_room_both_receive(layer_name):
    alice, bob = await open_chat("lobby"), await open_chat("lobby")
    await alice.send_json_to({"text": "hello"})
    expected = {"type": "message", "room": "lobby", "text": "hello"}
    at_alice = await next_frame(alice, "Alice's own message back", hint=(
        "relay must group_send a chat.message event to the group that connect joined (self.group): Alice is a "
        "member too, so she hears her message like everyone else."))
    check_chat_frame(at_alice, expected, "Alice")
    at_bob = await next_frame(bob, f"Alice's message at Bob's socket, in the same room ({layer_name} layer)", hint=(
        "Alice got hers back, so relay answered only her socket: it must group_send to the room's group, "
        "so that every member hears it."))
    check_chat_frame(at_bob, expected, "Bob")
    await leave(alice, bob)


async def test_a_message_stays_in_its_room(layer_name):
    alice, carol = await open_chat("lobby"), await open_chat("kitchen")
    await alice.send_json_to({"text": "lobby only"})
    await next_frame(alice, "Alice's own message back")
    assert await nothing_arrives(carol), "A message sent to 'lobby' reached a socket in 'kitchen'."
    await leave(alice, carol)


async def test_a_message_without_text_gets_an_error_frame(layer_name):
    alice = await open_chat("lobby")
    for bad in ({"txt": "typo"}, ["text"], {"text": "   "}, {"text": 42}):
        await alice.send_json_to(bad)
        frame = await next_frame(alice, f"an error frame for {bad!r}")
        assert frame.get("code") == "bad_message", f"{bad!r} must get code 'bad_message'; got {frame!r}."
    await alice.send_to(text_data="not json")
    frame = await next_frame(alice, "an error frame for a frame that is not JSON")
    assert frame.get("code") == "bad_json", frame
    await leave(alice)


@asynccontextmanager
async def writes_paused(url: str):
    """Redis holds every write (ZADD included) until the block ends: a slow Redis, for as long as we like."""
    admin = redis.from_url(url)
    await admin.execute_command("CLIENT", "PAUSE", int(scaled(4 * ARRIVES) * 1000), "WRITE")
    try:
        yield admin
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()


async def join_is_held(admin, communicator) -> bool:
    """Wait until Redis holds the consumer's group_add (a ZADD); False if it never comes or the consumer stops."""
    try:
        async with asyncio.timeout(scaled(ARRIVES)):
            while not communicator.future.done():
                if "cmd=zadd" in (await admin.execute_command("CLIENT", "LIST")).decode():
                    return True
                await asyncio.sleep(0.01)
    except TimeoutError:
        pass
    return False


async def test_a_socket_is_accepted_only_once_it_has_joined_its_room(redis_server_binary, settings):
    # A client may send as soon as its socket opens: by then the socket must already hear its room.
    with RedisServer(redis_server_binary) as own_redis:
        settings.CHANNEL_LAYERS = {"default": layer_settings("redis", own_redis.url)}
        communicator = chat_socket("lobby")
        async with writes_paused(own_redis.url) as admin:
            await communicator.send_input({"type": "websocket.connect"})
            held = await join_is_held(admin, communicator)
            answered_early = not communicator.output_queue.empty()
        stopped = communicator.future.done() and not communicator.future.cancelled()
        crash = communicator.future.exception() if stopped else None
        if crash is not None:
            pytest.fail(f"ChatConsumer raised {described(crash)}", pytrace=False)
        if answered_early:
            pytest.fail("ChatConsumer accepted the socket before joining its room: while Redis was still adding it "
                        "to the group, the client could already send and miss its room's messages. In connect, "
                        "await group_add(...) first, then accept().", pytrace=False)
        if not held:
            pytest.fail(f"ChatConsumer never called group_add within {scaled(ARRIVES):g} s of the connection: "
                        "connect must join the room's group.", pytrace=False)
        event = await next_event(communicator, "the socket to be accepted once it joined its room")
        assert event["type"] == "websocket.accept", f"Expected the socket to be accepted; got {event!r}."
        await leave(communicator)


async def exchange(server_a, server_b, room: str):
    """Alice on process A and Bob on process B join `room`; Alice sends. Return Alice's echo and Bob's socket."""
    alice = await open_real_chat(server_a, room)
    bob = await open_real_chat(server_b, room)
    await alice.send(json.dumps({"text": "from process A"}))
    echoed = await real_frame(alice, "Alice's own message back from process A")
    return alice, bob, echoed


async def test_two_processes_sharing_redis_relay_each_others_messages(start_daphne, redis_url):
    started = time.monotonic()
    env = {"CHANNEL_LAYER": "redis", "REDIS_URL": redis_url}
    server_a, server_b = await daphne_processes(start_daphne, env, env)
    alice, bob = None, None
    try:
        alice, bob, echoed = await exchange(server_a, server_b, "two-processes")
        at_bob = await real_frame(bob, "at Bob's socket on process B what Alice sent to process A, through Redis")
        assert at_bob == echoed, f"Bob should get what Alice got back, {echoed!r}; got {at_bob!r}."
    finally:
        for socket in (alice, bob):
            if socket is not None:
                await socket.close()
    print(f"two daphne processes started and relayed a message in {time.monotonic() - started:.2f} s")


async def test_two_processes_on_the_in_memory_layer_cannot_talk(start_daphne):
    env = {"CHANNEL_LAYER": "memory"}
    server_a, server_b = await daphne_processes(start_daphne, env, env)
    alice, bob = None, None
    try:
        alice, bob, echoed = await exchange(server_a, server_b, "no-broker")
        assert echoed["text"] == "from process A"
        # Alice's echo came back, so her group_send is done: whatever could reach Bob is on its way.
        try:
            leaked = await asyncio.wait_for(bob.recv(), scaled(QUIET))
        except TimeoutError:
            leaked = None
        assert leaked is None, "Two processes on the in-memory layer share nothing, yet Bob received Alice's message."
    finally:
        for socket in (alice, bob):
            if socket is not None:
                await socket.close()
