"""What goes wrong around a socket, through Channels' communicator: a consumer that crashes, Redis that goes
away, a logout, a deleted room, a client that asks too much. Each has a defined answer, and nothing stays behind."""

import asyncio

import pytest
import redis
from asgiref.sync import sync_to_async
from chat_site.asgi import application
from channels.layers import get_channel_layer
from django.test import Client as HttpClient

from coursekit import servers
from coursekit.timing import scaled
from rooms.consumers import RoomConsumer
from rooms.models import Room
from rooms.presence import get_presence

from .conftest import use_layer
from .sockets import (EVENT_WAIT, QUIET_WAIT, RoomSocket, brief, communicator, frame_of_type,
                      frame_of_types, join, online, presence_becomes, send)

pytestmark = pytest.mark.django_db(transaction=True)


async def crash(socket: RoomSocket, monkeypatch, what: str = "typing") -> None:
    """Make the consumer raise on its next `what` frame (a bug, on purpose), send it, and see it crash."""
    async def bug(self, *args, **kwargs):
        raise RuntimeError("a bug in the consumer, on purpose")
    monkeypatch.setattr(RoomConsumer, f"on_{what}", bug)
    await send(socket, {"type": what} if what == "typing" else {"type": what, "after": 0})
    done, _ = await asyncio.wait([socket.future], timeout=EVENT_WAIT)  # the consumer's end, as soon as it comes
    crashed = done and not socket.future.cancelled() and isinstance(socket.future.exception(), RuntimeError)
    assert crashed, "the consumer was meant to crash on purpose, and it did not"


async def stays_away(username: str, room: str, seconds: float, why: str) -> None:
    """`username` stays off `room`'s list for `seconds` (a heartbeat still running would put them back)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        assert username not in await online(room), why
        await asyncio.sleep(0.02)


async def in_group(group: str, channel: str) -> bool:
    layer = get_channel_layer()
    if hasattr(layer, "_get_group_channel_name"):  # pub/sub: {group's Redis channel: {channel, ...}} per loop
        return channel in layer.groups.get(layer._get_group_channel_name(group), set())
    if hasattr(layer, "groups"):  # the in-memory layer: {group: {channel: joined_at}}
        return channel in layer.groups.get(group, {})
    client = redis.asyncio.Redis.from_url(layer.hosts[0]["address"])
    try:
        return await client.zscore(layer._group_key(group), channel) is not None
    finally:
        await client.aclose()


# --- a consumer that crashes ----------------------------------------------------------------------

async def test_a_crashed_consumer_leaves_presence_and_its_group_at_once(layer, settings, monkeypatch, general, ada, bob):
    settings.PRESENCE_TTL = 0.6  # a heartbeat every 0.2 s: one left running would show within the watch below
    alice, bobs = await join("general", ada), await join("general", bob)
    channel = next(iter(await channels_in_presence("general", "bob")))
    await crash(bobs, monkeypatch)
    assert "bob" not in await online("general"), (
        "bob's consumer crashed, and he is still listed online: whatever ends the consumer (a clean close, a "
        "crash, a cancellation), it must leave its room (a finally around the consumer's __call__).")
    assert not await in_group("room.general", channel), (
        "bob's consumer crashed, and its channel is still in the room's group: the room keeps sending to it.")
    await stays_away("bob", "general", QUIET_WAIT + scaled(0.4),
                     "bob came back online after his consumer crashed: its heartbeat task outlived it.")
    await alice.disconnect()


async def channels_in_presence(room: str, username: str) -> set[str]:
    store = get_presence()
    if hasattr(store, "rooms"):
        entries = store.rooms.get(room, {})
    else:
        entries = await store.client().zrange(store.keys(room)[0], 0, -1)
    return {entry.split(" ", 1)[0] for entry in entries if entry.split(" ", 1)[1] == username}


async def test_a_heartbeat_whose_cancellation_is_lost_still_stops_when_its_socket_leaves(settings, monkeypatch,
                                                                                         general, ada, bob):
    settings.PRESENCE_TTL = 0.3  # a heartbeat every 0.1 s
    store = get_presence()
    refresh = type(store).refresh

    async def cancellation_becomes_a_redis_error(self, *args):
        # What a Redis client may do when a cancellation meets its own read timeout: raise its own error.
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            raise redis.exceptions.ConnectionError("Connection closed by server.") from None
        return await refresh(self, *args)
    monkeypatch.setattr(type(store), "refresh", cancellation_becomes_a_redis_error)
    alice, bobs = await join("general", ada), await join("general", bob)
    await asyncio.sleep(0.12)  # bob's heartbeat is inside a refresh most of the time
    await bobs.disconnect()
    await stays_away("bob", "general", QUIET_WAIT + scaled(0.4),
                     "bob came back online after his socket closed: his heartbeat lost its cancellation (a Redis "
                     "error came instead) and kept refreshing. Let the heartbeat stop once its socket has left.")
    await alice.disconnect()


async def test_a_crashed_consumer_that_cannot_clean_up_expires_within_the_ttl(settings, monkeypatch, general, ada, bob):
    settings.PRESENCE_TTL = scaled(0.9)
    alice, bobs = await join("general", ada), await join("general", bob)

    async def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is away, on purpose")
    monkeypatch.setattr(type(get_presence()), "leave", unreachable)
    await crash(bobs, monkeypatch)
    await presence_becomes(alice, ["ada"], timeout=settings.PRESENCE_TTL + EVENT_WAIT,
                           why="bob's consumer crashed and could not remove his entry: with its heartbeat stopped, "
                               "the entry must expire within PRESENCE_TTL, as a dead process's do.")
    await alice.disconnect()


async def test_a_heartbeat_reads_the_whole_list_only_when_the_room_changed(layer, settings, monkeypatch, general, ada):
    settings.PRESENCE_TTL = 0.3  # a heartbeat every 0.1 s
    store = get_presence()
    reads = []
    read_online = type(store).online

    async def counted(self, room):
        reads.append(room)
        return await read_online(self, room)
    monkeypatch.setattr(type(store), "online", counted)
    socket = await join("general", ada)
    await asyncio.sleep(0.45)  # about four heartbeats, in a room where nothing changes
    assert reads == [], (f"{len(reads)} heartbeats in a quiet room read the whole presence list: a heartbeat "
                         "refreshes its own entry and compares the room's version, O(1) per socket.")
    await store.join("general", "ghost", "specific.ghost!1")  # the room changes without a broadcast
    await presence_becomes(socket, ["ada", "ghost"], why="The heartbeat must notice the change.")
    assert len(reads) == 1, f"after one change, the list was read {len(reads)} times; once is enough"
    await socket.disconnect()


# --- Redis away: the client is told, and the socket closes with 4503 ------------------------------

@pytest.fixture
def own_redis(redis_server_binary, settings):
    """A Redis of the test's own, that the test may stop: the layer and presence use it."""
    with servers.RedisServer(redis_server_binary) as server:
        use_layer(settings, "redis", server.url)
        yield server


async def broker_unavailable(socket, when: str) -> None:
    frame = await frame_of_types(socket, {"error", "message"}, what=f"the broker_unavailable error frame {when}")
    assert frame.get("code") == "broker_unavailable", f"{when}, expected the broker_unavailable error; got {frame}"
    output = await socket.receive_output(timeout=EVENT_WAIT)
    assert output == {"type": "websocket.close", "code": 4503}, (
        f"{when}, after the error frame the socket must close with 4503; got {brief(output)}")


async def test_redis_away_at_connect_gives_broker_unavailable_and_4503(own_redis, general, ada):
    own_redis.stop()
    socket = await communicator("general", ada)
    connected, code = await socket.connect()
    assert connected, f"With Redis away, the socket was refused in the handshake (code {code}): accept, then say why"
    await broker_unavailable(socket, "when Redis is away at connect")


async def test_redis_going_away_during_a_session_gives_broker_unavailable_and_4503(own_redis, general, ada):
    socket = await join("general", ada)
    own_redis.stop()
    await broker_unavailable(socket, "when Redis goes away during a session")
    own_redis.start()
    again = await join("general", ada)  # Redis is back: a new socket works, no server restart
    await send(again, {"type": "message", "text": "back", "client_id": "after-the-outage"})
    assert (await frame_of_type(again, "message"))["text"] == "back"
    await again.disconnect()


# --- the session, the room, the user ----------------------------------------------------------------

async def test_logging_out_closes_the_sessions_sockets_with_4401(layer, general, ada):
    browser = HttpClient()
    await sync_to_async(browser.force_login)(ada)
    cookie = (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode())
    socket = RoomSocket(application, "/ws/rooms/general/", headers=[(b"origin", b"http://127.0.0.1:8000"), cookie])
    connected, _ = await socket.connect()
    assert connected
    await frame_of_type(socket, "welcome")
    await sync_to_async(browser.post)("/accounts/logout/")
    output = await socket.receive_output(timeout=EVENT_WAIT)
    assert output == {"type": "websocket.close", "code": 4401}, (
        f"After ada logged out, her open socket got {brief(output)}; expected it closed with 4401: a socket "
        "opened before the logout must not go on speaking for her.")


async def test_a_message_to_a_deleted_room_closes_the_socket_with_4404(general, ada):
    socket = await join("general", ada)
    await sync_to_async(Room.objects.filter(pk=general.pk).delete)()
    await send(socket, {"type": "message", "text": "anyone?", "client_id": "late"})
    output = await socket.receive_output(timeout=EVENT_WAIT)
    assert output == {"type": "websocket.close", "code": 4404}, (
        f"A message to a room deleted meanwhile got {brief(output)}; expected the close code 4404 (no such room)")


async def test_a_client_id_reused_in_another_room_is_a_new_message_there(general, ada):
    await sync_to_async(Room.objects.create)(name="other", slug="other", created_by=ada)
    here, there = await join("general", ada), await join("other", ada)
    await send(here, {"type": "message", "text": "in general", "client_id": "same"})
    assert (await frame_of_type(here, "message"))["room"] == "general"
    await send(there, {"type": "message", "text": "in other", "client_id": "same"})
    answer = await frame_of_type(there, "message")
    assert (answer["room"], answer["text"]) == ("other", "in other"), (
        f"The same client_id in another room was answered with {brief(answer)}: a client_id is unique per room "
        "and user, so this is a new message in 'other'.")
    await here.disconnect()
    await there.disconnect()


async def test_a_username_with_a_space_is_listed_whole(general, django_user_model):
    user = await sync_to_async(django_user_model.objects.create_user)("ada lovelace", password="x")
    socket = await join("general", user)
    assert socket.welcome["online"] == ["ada lovelace"]
    await socket.disconnect()


# --- asking too much -------------------------------------------------------------------------------------

async def test_more_than_5_syncs_in_10_seconds_are_rate_limited(general, ada):
    socket = await join("general", ada)
    for _ in range(5):
        await send(socket, {"type": "sync", "after": 0})
        await frame_of_type(socket, "synced")
    await send(socket, {"type": "sync", "after": 0})
    answer = await frame_of_types(socket, {"error", "synced"}, what="an error frame ('rate_limited')")
    assert answer.get("code") == "rate_limited" and answer.get("for") == "sync" and answer["retry_after"] > 0, (
        f"The 6th sync within 10 s got {brief(answer)}; expected a rate_limited error for the sync, with retry_after")
    await socket.disconnect()


async def test_an_error_about_a_message_names_its_client_id(general, ada):
    socket = await join("general", ada)
    await send(socket, {"type": "message", "text": "x" * 2001, "client_id": "too-long-1"})
    error = await frame_of_type(socket, "error")
    assert (error["code"], error.get("for"), error.get("client_id")) == ("too_long", "message", "too-long-1"), (
        f"The refusal was {brief(error)}: name the refused message's client_id, or the page cannot tell which "
        "message failed and resends it forever.")
    await socket.disconnect()


@pytest.mark.parametrize("path", ["/ws/nowhere/", "/ws/rooms/../../etc/", "/ws/rooms/a/b/", "/"])
async def test_any_other_path_is_closed_with_4404(general, ada, path):
    socket = RoomSocket(application, path, headers=[(b"origin", b"http://127.0.0.1:8000")])
    connected, code = await socket.connect()
    assert connected, f"{path} was refused in the handshake (code {code}); expected accept, then close 4404"
    output = await socket.receive_output(timeout=EVENT_WAIT)
    assert output == {"type": "websocket.close", "code": 4404}, f"{path}: {brief(output)}"
