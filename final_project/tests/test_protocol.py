"""The wire protocol, rule by rule, through Channels' communicator (no server, no browser)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from coursekit.timing import scaled
from rooms.models import Message
from rooms.presence import get_presence

from .sockets import (QUIET_WAIT, brief, close_code, frame_of_type, frame_of_types, join, nothing_more, online,
                      presence_becomes, refused_in_handshake, send)

pytestmark = pytest.mark.django_db(transaction=True)


def message(text="hello", client_id="c1"):
    return {"type": "message", "text": text, "client_id": client_id}


count_messages = sync_to_async(lambda: Message.objects.count())


# --- who may connect --------------------------------------------------------------------------

async def test_a_socket_without_a_login_is_closed_with_4401(general):
    code = await close_code("general", who="A socket without a login")
    assert code == 4401, (f"A socket without a login was closed with {code}; expected 4401 (not logged in), "
                          "the code the page answers with 'Log in to chat.'")


async def test_an_unknown_room_is_closed_with_4404(ada):
    assert await close_code("nowhere", ada) == 4404
    assert await close_code("café", ada) == 4404  # not a valid group name: refused before the layer


async def test_a_private_room_refuses_a_non_member_with_4403(secret, bob):
    code = await close_code("secret", bob, who="bob, not a member of the private room,")
    assert code == 4403, f"bob, not a member of the private room, was closed with {code}; expected 4403"


async def test_a_member_added_by_the_creator_may_enter_a_private_room(secret, bob):
    await sync_to_async(secret.members.add)(bob)
    socket = await join("secret", bob)
    await socket.disconnect()


async def test_a_foreign_origin_is_refused(general, ada):
    assert await refused_in_handshake("general", ada, origin=(b"origin", b"http://evil.example"))


async def test_a_socket_without_origin_is_refused(general, ada):
    assert await refused_in_handshake("general", ada, origin=None)


# --- welcome, messages, acknowledgement -------------------------------------------------------

async def test_welcome_names_the_room_the_user_the_last_id_and_who_is_online(layer, general, ada):
    stored, _ = await sync_to_async(Message.store)(general, ada, "earlier", "e")
    socket = await join("general", ada)
    assert socket.welcome == {"type": "welcome", "room": "general", "user": "ada",
                              "last_id": stored.seq, "online": ["ada"]}
    await socket.disconnect()


async def test_a_message_is_stored_then_sent_to_everyone_including_the_sender(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, message("hi bob", "m-1"))
    echoed = await frame_of_type(alice, "message")
    received = await frame_of_type(bobs, "message")
    assert "id" in echoed, (f"The message came back without an id ({brief(echoed)}): store the message first, then "
                            "broadcast the stored one (its id comes from the database).")
    assert echoed == received, f"ada got {echoed}, bob got {received}: everyone gets the same frame"
    stored = await sync_to_async(Message.objects.get)(client_id="m-1")
    assert echoed["id"] == stored.seq == 1, f"the first message of a new room came back as id {echoed['id']}, not 1"
    assert {k: echoed[k] for k in ("type", "room", "user", "text", "client_id")} == {
        "type": "message", "room": "general", "user": "ada", "text": "hi bob", "client_id": "m-1"}
    assert echoed["ts"].startswith(str(stored.created_at.year)) and "T" in echoed["ts"]
    await alice.disconnect()
    await bobs.disconnect()


async def test_the_sender_is_the_logged_in_user_whatever_the_frame_claims(general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, {**message("I am bob, honest", "spoof"), "user": "bob"})
    answer = await frame_of_types(bobs, {"message", "error"})
    stored = await sync_to_async(lambda: list(Message.objects.values_list("user__username", flat=True)))()
    shown = answer.get("user", "nobody")
    assert shown == "ada" and stored == ["ada"], (
        f"ada's socket sent a frame saying \"user\": \"bob\"; the room was shown {shown!r} and the database "
        f"stored {stored}. The sender is the logged-in user (scope['user']), never a name the client sends.")
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
    again = await frame_of_types(alice, {"message", "error"}, what="the original message, answering the resend")
    assert again == original, (f"The resend was answered with {again}; expected the original {original}: a "
                               "client_id this user already used in this room gives back the original message")
    await nothing_more(bobs, "message", why="A resend (a client_id already stored) goes back to its sender "
                                           "only: bob got the same message twice.")
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


def replay_problem(after: int, got: list[int], expected: list[int]) -> str:
    """What is wrong with the ids a sync after `after` replayed, in the learner's words."""
    if after in got:
        return f"the message with id {after} itself came back: sync sends the messages AFTER the given id (id > after)"
    if sorted(got) == expected and got != expected:
        return "they came newest first: replay them oldest first"
    return "expected each message after that id once, oldest first"


async def test_sync_replays_the_missed_messages_oldest_first_then_synced(layer, general, ada, bob):
    make = sync_to_async(lambda n: Message.store(general, bob, f"m{n}", f"s{n}")[0])
    first, *rest = [await make(n) for n in range(4)]
    socket = await join("general", ada)
    await send(socket, {"type": "sync", "after": first.seq})
    frames = await frames_until_synced(socket)
    got, expected = [m["id"] for m in frames if m["type"] == "message"], [m.seq for m in rest]
    assert got == expected, (f"sync after id {first.seq} replayed ids {got}, expected {expected}: "
                             + replay_problem(first.seq, got, expected))
    assert [m["text"] for m in frames[:-1]] == ["m1", "m2", "m3"]
    synced = frames[-1]
    assert synced == {"type": "synced", "last_id": rest[-1].seq}, (
        f"sync ended with {synced}; expected last_id {rest[-1].seq}: synced carries the id of the last message "
        "replayed (the client asks for the next batch from there)")
    await send(socket, {"type": "sync", "after": rest[-1].seq})
    assert await frame_of_type(socket, "synced") == {"type": "synced", "last_id": rest[-1].seq}
    await socket.disconnect()


async def frames_until_synced(socket) -> list[dict]:
    frames = [await frame_of_types(socket, {"message", "synced"})]
    while frames[-1]["type"] != "synced":
        frames.append(await frame_of_types(socket, {"message", "synced"}))
    return frames


async def test_each_room_numbers_its_messages_from_one(general, ada):
    other = await sync_to_async(lambda: general.__class__.objects.create(name="other", slug="other", created_by=ada))()
    for n in range(3):
        await sync_to_async(Message.store)(other, ada, f"elsewhere {n}", f"x{n}")
    socket = await join("general", ada)
    await send(socket, message("first here", "g-1"))
    echoed = await frame_of_type(socket, "message")
    assert echoed["id"] == 1, (
        f"The first message of room general came back as id {echoed['id']}, after 3 messages in another room: "
        "a message's id is its number in its room (Message.seq), not the primary key, which counts across rooms "
        "and, on PostgreSQL, is taken before the commit")
    await socket.disconnect()


async def test_sync_only_replays_its_own_room(general, ada):
    other = await sync_to_async(lambda: general.__class__.objects.create(name="other", slug="other", created_by=ada))()
    await sync_to_async(Message.store)(other, ada, "elsewhere", "x")
    socket = await join("general", ada)
    await send(socket, {"type": "sync", "after": 0})
    frames = await frames_until_synced(socket)
    assert frames == [{"type": "synced", "last_id": 0}], (
        f"sync in an empty room replayed {frames[:-1]}: only this room's messages (filter by room)")
    await socket.disconnect()


# --- presence and typing ------------------------------------------------------------------------

async def test_presence_lists_who_joins_and_drops_who_leaves(layer, general, ada, bob):
    alice = await join("general", ada)
    assert alice.welcome["online"] == ["ada"]
    bobs = await join("general", bob)
    assert bobs.welcome["online"] == ["ada", "bob"]
    assert (await frame_of_type(alice, "presence"))["online"] == ["ada", "bob"]
    await bobs.disconnect()
    await presence_becomes(alice, ["ada"], why="When a socket closes, disconnect() must remove the socket's "
                                                "presence entry and tell the room.")
    await alice.disconnect()


async def test_a_user_with_two_tabs_stays_online_until_both_close(general, ada, bob):
    alice, tab1, tab2 = await join("general", ada), await join("general", bob), await join("general", bob)
    await tab1.disconnect()  # returns once the consumer's disconnect() has finished
    assert await online("general") == ["ada", "bob"], "bob's other tab is still open"
    await tab2.disconnect()
    await presence_becomes(alice, ["ada"])
    await alice.disconnect()


async def test_a_closed_socket_leaves_the_rooms_group(settings, general, ada):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    groups = get_channel_layer().groups  # the in-memory layer's {group: {channel: expiry}}
    socket = await join("general", ada)
    assert len(groups.get("room.general", {})) == 1, "the socket's channel joins the room's group"
    await socket.disconnect()
    still_there = list(groups.get("room.general", {}))
    assert not still_there, (
        "After ada's socket closed, its channel was still in the room's group: call group_discard() in "
        "disconnect(), or the room keeps sending to a socket that is gone.")


async def test_a_closed_socket_leaves_presence_and_stops_its_heartbeat(settings, general, bob):
    settings.PRESENCE_TTL = 0.3  # a heartbeat every 0.1 s
    socket = await join("general", bob)
    await socket.disconnect()
    assert "bob" not in await online("general"), (
        "bob's socket closed, yet he is still online: disconnect() must remove the socket's presence entry.")
    # A heartbeat still running would put bob back within one beat: watch for a few beats.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_WAIT + scaled(0.2)
    while loop.time() < deadline:
        assert "bob" not in await online("general"), (
            "bob came back online after his socket closed: its heartbeat task kept running. Cancel the task "
            "when the socket closes.")
        await asyncio.sleep(0.02)


async def test_typing_reaches_the_others_but_not_the_typist(layer, general, ada, bob):
    alice, bobs = await join("general", ada), await join("general", bob)
    await send(alice, {"type": "typing"})
    assert await frame_of_type(bobs, "typing") == {"type": "typing", "user": "ada"}
    await nothing_more(alice, "typing", why="The typist does not get their own typing notice.")
    assert await count_messages() == 0, ("A typing notice was stored as a message: typing is ephemeral, "
                                         "broadcast it and store nothing.")
    await alice.disconnect()
    await bobs.disconnect()


async def test_an_expired_presence_entry_leaves_the_list_and_the_heartbeat_tells_the_clients(settings, general, ada):
    settings.PRESENCE_TTL = scaled(0.6)  # short, yet long enough that a busy machine keeps ada's own entry
    socket = await join("general", ada)
    presence = get_presence()
    await presence.join("general", "ghost", "a-channel-of-a-dead-process")  # never refreshed
    assert "ghost" in await online("general")
    await presence_becomes(socket, ["ada", "ghost"])  # the heartbeat sees the new entry
    await presence_becomes(socket, ["ada"])  # and, once it expired, sees it go
    assert await online("general") == ["ada"]  # ada's own entry is kept alive by the heartbeat
    await socket.disconnect()


# --- hostile and broken input: an error frame, and the socket stays open -----------------------

NOT_TEXT = "Check the type with isinstance(), not truthiness: 0 and false are falsy, yet they are there."


def hostile(text: str, code: str, name: str, hint: str = ""):
    return pytest.param(text, code, hint, id=name)


HOSTILE = [
    hostile("not json", "bad_json", "not-json"),
    hostile('{"type": "message",', "bad_json", "cut-json"),
    hostile("[1, 2]", "bad_frame", "a-list"),
    hostile('"message"', "bad_frame", "a-string"),
    hostile("null", "bad_frame", "null"),
    hostile("{}", "unknown_type", "no-type"),
    hostile('{"type": "shout"}', "unknown_type", "unknown-type"),
    hostile('{"type": 3}', "unknown_type", "number-type"),
    hostile('{"type": "message", "client_id": "c"}', "invalid", "no-text"),
    hostile('{"type": "message", "text": "hi"}', "invalid", "no-client-id"),
    hostile('{"type": "message", "text": 42, "client_id": "c"}', "invalid", "number-text"),
    hostile('{"type": "message", "text": 0, "client_id": "c"}', "invalid", "zero-text", NOT_TEXT),
    hostile('{"type": "message", "text": false, "client_id": "c"}', "invalid", "false-text", NOT_TEXT),
    hostile('{"type": "message", "text": ["hi"], "client_id": "c"}', "invalid", "list-text"),
    hostile('{"type": "message", "text": "", "client_id": "c"}', "invalid", "empty-text"),
    hostile('{"type": "message", "text": "   ", "client_id": "c"}', "invalid", "blank-text"),
    hostile('{"type": "message", "text": "hi", "client_id": ""}', "invalid", "empty-client-id"),
    hostile('{"type": "message", "text": "hi", "client_id": 7}', "invalid", "number-client-id"),
    hostile('{"type": "message", "text": "hi", "client_id": "' + "x" * 65 + '"}', "invalid", "long-client-id"),
    hostile('{"type": "message", "text": "' + "a" * 2001 + '", "client_id": "c"}', "too_long", "long-text",
            "A message has at most 2000 characters (the form field's max_length)."),
    hostile('{"type": "message", "text": "a\\ud800b", "client_id": "c"}', "invalid", "lone-surrogate-text",
            "JSON may escape half a surrogate pair; no database stores it: refuse it as invalid."),
    hostile('{"type": "message", "text": "hi", "client_id": "\\udfff"}', "invalid", "lone-surrogate-client-id"),
    hostile('{"type": "message", "text": "hi", "client_id": "c", "deep": ' + "[" * 2000 + "]" * 2000 + "}",
            "bad_json", "nested-2000-deep", "json.loads raises RecursionError (not a ValueError) on deep nesting."),
    hostile('{"type": "typing", "padding": "' + "x" * 20_000 + '"}', "too_big", "frame-over-16-kib"),
    hostile('{"type": "sync"}', "invalid", "sync-without-after"),
    hostile('{"type": "sync", "after": "5"}', "invalid", "string-after"),
    hostile('{"type": "sync", "after": -1}', "invalid", "negative-after"),
    hostile('{"type": "sync", "after": true}', "invalid", "true-after"),
    hostile('{"type": "sync", "after": 1.5}', "invalid", "float-after"),
]


@pytest.mark.parametrize("text, code, hint", HOSTILE)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(general, ada, text, code, hint):
    socket = await join("general", ada)
    await socket.send_to(text_data=text)
    answer = await frame_of_types(socket, {"error", "message", "synced"}, what=f"an error frame ({code!r})")
    if answer["type"] != "error":
        pytest.fail(f"The frame {brief(text, 80)} was accepted (the answer was {brief(answer)}); expected an error "
                    f"frame with code {code!r}. {hint}", pytrace=False)
    assert answer["code"] == code and isinstance(answer["detail"], str) and answer["detail"], (
        f"The frame {brief(text, 80)} got {answer}; expected code {code!r} and a detail for people")
    await send(socket, message("still here", "after-the-error"))
    assert (await frame_of_type(socket, "message"))["text"] == "still here", "the socket stays open after an error"
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
        await frame_of_type(alice, "message")
    for _ in range(10):
        await frame_of_type(bobs, "message")
    await send(alice, message("one too many", "r10"))
    answer = await frame_of_types(alice, {"error", "message"}, what="an error frame ('rate_limited')")
    assert answer["type"] == "error" and answer["code"] == "rate_limited", (
        f"The 11th message within 10 s was answered with {brief(answer)}; expected an error frame 'rate_limited': "
        "check the rate limit before storing and broadcasting.")
    await nothing_more(bobs, "message", why="A rate-limited message is not broadcast.")
    assert await count_messages() == 10
    await alice.disconnect()
    await bobs.disconnect()


async def test_html_is_stored_and_sent_as_plain_text(general, ada):
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    socket = await join("general", ada)
    await send(socket, message(payload, "xss"))
    assert (await frame_of_type(socket, "message"))["text"] == payload
    await socket.disconnect()
