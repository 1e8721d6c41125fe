"""The wire protocol, rule by rule, through Channels' communicator (no server, no browser)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from rooms.models import Message
from rooms.presence import get_presence

from .sockets import close_code, communicator, frame, frame_of_type, join, nothing_more, send

pytestmark = pytest.mark.django_db(transaction=True)


def message(text="hello", client_id="c1"):
    return {"type": "message", "text": text, "client_id": client_id}


count_messages = sync_to_async(lambda: Message.objects.count())


# --- who may connect --------------------------------------------------------------------------

async def test_a_socket_without_a_login_is_closed_with_4401(general):
    assert await close_code("general") == 4401


async def test_an_unknown_room_is_closed_with_4404(ada):
    assert await close_code("nowhere", ada) == 4404
    assert await close_code("café", ada) == 4404  # not a valid group name: refused before the layer


async def test_a_private_room_refuses_a_non_member_with_4403(secret, bob):
    assert await close_code("secret", bob) == 4403


async def test_a_member_added_by_the_creator_may_enter_a_private_room(secret, bob):
    await sync_to_async(secret.members.add)(bob)
    socket = await join("secret", bob)
    await socket.disconnect()


async def test_a_foreign_origin_is_refused(general, ada):
    assert await close_code("general", ada, origin=(b"origin", b"http://evil.example")) is not None
    connected, _ = await (await communicator("general", ada, origin=(b"origin", b"http://evil.example"))).connect()
    assert not connected


async def test_a_socket_without_origin_is_refused(general, ada):
    connected, _ = await (await communicator("general", ada, origin=None)).connect()
    assert not connected


# --- welcome, messages, acknowledgement -------------------------------------------------------

async def test_welcome_names_the_room_the_user_the_last_id_and_who_is_online(layer, general, ada):
    stored = await sync_to_async(Message.objects.create)(room=general, user=ada, text="earlier", client_id="e")
    socket = await join("general", ada)
    assert socket.welcome == {"type": "welcome", "room": "general", "user": "ada",
                              "last_id": stored.id, "online": ["ada"]}
    await socket.disconnect()


async def test_a_message_is_stored_then_sent_to_everyone_including_the_sender(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, message("hi bob", "m-1"))
    echoed = await frame_of_type(alice, "message")
    received = await frame_of_type(bobs, "message")
    assert echoed == received
    stored = await sync_to_async(Message.objects.get)(client_id="m-1")
    assert echoed["id"] == stored.id
    assert {k: echoed[k] for k in ("type", "room", "user", "text", "client_id")} == {
        "type": "message", "room": "general", "user": "ada", "text": "hi bob", "client_id": "m-1"}
    assert echoed["ts"].startswith(str(stored.created_at.year)) and "T" in echoed["ts"]
    await alice.disconnect()
    await bobs.disconnect()


async def test_message_ids_increase(layer, general, ada):
    socket = await join("general", ada)
    ids = []
    for n in range(3):
        await send(socket, message(f"n{n}", f"c{n}"))
        ids.append((await frame_of_type(socket, "message"))["id"])
    assert ids == sorted(ids) and len(set(ids)) == 3
    await socket.disconnect()


async def test_a_resent_client_id_returns_the_original_and_stores_nothing_new(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, message("once", "same-id"))
    original = await frame_of_type(alice, "message")
    await frame_of_type(bobs, "message")
    await send(alice, message("once (resent)", "same-id"))
    assert await frame_of_type(alice, "message") == original
    await nothing_more(bobs, "message")  # no second copy for the others
    assert await count_messages() == 1
    await alice.disconnect()
    await bobs.disconnect()


async def test_the_same_client_id_from_two_users_is_two_messages(general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, message("a", "shared"))
    await send(bobs, message("b", "shared"))
    await frame_of_type(alice, "message")
    await frame_of_type(alice, "message")
    assert await count_messages() == 2
    await alice.disconnect()
    await bobs.disconnect()


async def test_sync_replays_the_missed_messages_oldest_first_then_synced(layer, general, ada, bob):
    make = sync_to_async(lambda n: Message.objects.create(room=general, user=bob, text=f"m{n}", client_id=f"s{n}"))
    first, *rest = [await make(n) for n in range(4)]
    socket = await join("general", ada)
    await send(socket, {"type": "sync", "after": first.id})
    replayed = [await frame_of_type(socket, "message") for _ in rest]
    assert [m["id"] for m in replayed] == [m.id for m in rest]
    assert [m["text"] for m in replayed] == ["m1", "m2", "m3"]
    assert await frame(socket, "synced") == {"type": "synced", "last_id": rest[-1].id}
    await send(socket, {"type": "sync", "after": rest[-1].id})
    assert await frame_of_type(socket, "synced") == {"type": "synced", "last_id": rest[-1].id}
    await socket.disconnect()


async def test_sync_only_replays_its_own_room(general, ada):
    other = await sync_to_async(lambda: general.__class__.objects.create(name="other", slug="other", created_by=ada))()
    await sync_to_async(Message.objects.create)(room=other, user=ada, text="elsewhere", client_id="x")
    socket = await join("general", ada)
    await send(socket, {"type": "sync", "after": 0})
    assert await frame_of_type(socket, "synced") == {"type": "synced", "last_id": 0}
    await socket.disconnect()


async def presence_becomes(socket, online: list[str], timeout: float = 3) -> None:
    """Read presence frames until one lists exactly `online`."""
    seen = []
    while seen[-1:] != [online]:
        seen.append((await frame_of_type(socket, "presence", timeout))["online"])


# --- presence and typing ------------------------------------------------------------------------

async def test_presence_lists_who_joins_and_drops_who_leaves(layer, general, ada, bob):
    alice = await join("general", ada)
    assert (await frame_of_type(alice, "presence"))["online"] == ["ada"]
    bobs = await join("general", bob)
    assert bobs.welcome["online"] == ["ada", "bob"]
    assert (await frame_of_type(alice, "presence"))["online"] == ["ada", "bob"]
    await bobs.disconnect()
    assert (await frame_of_type(alice, "presence"))["online"] == ["ada"]
    await alice.disconnect()


async def test_a_user_with_two_tabs_stays_online_until_both_close(general, ada, bob):
    alice, tab1, tab2 = await join("general", ada), await join("general", bob), await join("general", bob)
    await tab1.disconnect()
    await asyncio.sleep(0.2)
    assert await get_presence().online("general") == ["ada", "bob"]  # bob's other tab is still open
    await tab2.disconnect()
    await presence_becomes(alice, ["ada"])
    await alice.disconnect()


async def test_typing_reaches_the_others_but_not_the_typist(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, {"type": "typing"})
    assert await frame_of_type(bobs, "typing") == {"type": "typing", "user": "ada"}
    await nothing_more(alice, "typing")
    await alice.disconnect()
    await bobs.disconnect()


async def test_an_expired_presence_entry_leaves_the_list_and_the_heartbeat_tells_the_clients(settings, general, ada):
    settings.PRESENCE_TTL = 0.3
    socket = await join("general", ada)
    presence = get_presence()
    await presence.join("general", "ghost", "a-channel-of-a-dead-process")  # never refreshed
    assert "ghost" in await presence.online("general")
    await presence_becomes(socket, ["ada", "ghost"], timeout=2)  # the heartbeat sees the new entry
    await presence_becomes(socket, ["ada"], timeout=2)  # and, once it expired, sees it go
    assert await presence.online("general") == ["ada"]  # ada's own entry is kept alive by the heartbeat
    await socket.disconnect()


# --- hostile and broken input: an error frame, and the socket stays open -----------------------

HOSTILE = [
    ("not json", "bad_json"),
    ("{\"type\": \"message\",", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ("\"message\"", "bad_frame"),
    ("null", "bad_frame"),
    ("{}", "unknown_type"),
    ("{\"type\": \"shout\"}", "unknown_type"),
    ("{\"type\": 3}", "unknown_type"),
    ("{\"type\": \"message\", \"client_id\": \"c\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"hi\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": 42, \"client_id\": \"c\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": [\"hi\"], \"client_id\": \"c\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"\", \"client_id\": \"c\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"   \", \"client_id\": \"c\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"hi\", \"client_id\": \"\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"hi\", \"client_id\": 7}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"hi\", \"client_id\": \"" + "x" * 65 + "\"}", "invalid"),
    ("{\"type\": \"message\", \"text\": \"" + "a" * 2001 + "\", \"client_id\": \"c\"}", "too_long"),
    ("{\"type\": \"sync\"}", "invalid"),
    ("{\"type\": \"sync\", \"after\": \"5\"}", "invalid"),
    ("{\"type\": \"sync\", \"after\": -1}", "invalid"),
    ("{\"type\": \"sync\", \"after\": true}", "invalid"),
    ("{\"type\": \"sync\", \"after\": 1.5}", "invalid"),
]


@pytest.mark.parametrize("text, code", HOSTILE, ids=[f"{code}-{n}" for n, (_, code) in enumerate(HOSTILE)])
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(general, ada, text, code):
    socket = await join("general", ada)
    await socket.send_to(text_data=text)
    error = await frame_of_type(socket, "error")
    assert error["code"] == code and isinstance(error["detail"], str) and error["detail"]
    await send(socket, message("still here", "after-the-error"))
    assert (await frame_of_type(socket, "message"))["text"] == "still here"
    assert await count_messages() == 1
    await socket.disconnect()


async def test_a_binary_frame_gets_bad_frame_and_the_socket_stays_open(general, ada):
    socket = await join("general", ada)
    await socket.send_to(bytes_data=b"\x00\x01binary")
    assert (await frame_of_type(socket, "error"))["code"] == "bad_frame"
    await send(socket, message("still here", "after-binary"))
    assert (await frame_of_type(socket, "message"))["text"] == "still here"
    await socket.disconnect()


async def test_exactly_2000_characters_is_accepted(general, ada):
    socket = await join("general", ada)
    await send(socket, message("é" * 2000, "long"))
    assert len((await frame_of_type(socket, "message"))["text"]) == 2000
    await socket.disconnect()


async def test_more_than_10_messages_in_10_seconds_are_rate_limited_not_broadcast(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    for n in range(10):
        await send(alice, message(f"n{n}", f"r{n}"))
    for _ in range(10):
        await frame_of_type(bobs, "message")
    await send(alice, message("one too many", "r10"))
    error = await frame_of_type(alice, "error")
    assert error["code"] == "rate_limited"
    await nothing_more(bobs, "message")
    assert await count_messages() == 10
    await alice.disconnect()
    await bobs.disconnect()


async def test_html_is_stored_and_sent_as_plain_text(general, ada):
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    socket = await join("general", ada)
    await send(socket, message(payload, "xss"))
    assert (await frame_of_type(socket, "message"))["text"] == payload
    await socket.disconnect()
