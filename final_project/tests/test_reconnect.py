"""Reconnection, through a real server and an outside client: nothing lost, nothing doubled."""

import asyncio
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .live import EVENT_WAIT, HTTP_WAIT, Client, get_json, log_in


def new_id() -> str:
    return uuid.uuid4().hex


async def test_messages_sent_while_away_arrive_exactly_once_after_sync(memory_server):
    ada, bob = await log_in(memory_server.http_url, "ada"), await log_in(memory_server.http_url, "bob")
    async with Client(memory_server, ada) as alice:
        async with Client(memory_server, bob) as bobs:
            await bobs.send({"type": "message", "text": "before the drop", "client_id": new_id()})
            seen = (await bobs.next("message"))["id"]
            assert (await alice.next("message"))["id"] == seen
        # bob is away: ada sends three
        sent = []
        for n in range(3):
            await alice.send({"type": "message", "text": f"while away {n}", "client_id": new_id()})
            sent.append((await alice.next("message"))["id"])
        async with Client(memory_server, bob) as bobs:
            assert bobs.welcome["last_id"] == sent[-1]
            await bobs.send({"type": "sync", "after": seen})
            frames = await bobs.frames_until("synced")
            replayed = [frame["id"] for frame in frames if frame["type"] == "message"]
            assert replayed == sent, "each missed message once, oldest first"
            assert frames[-1] == {"type": "synced", "last_id": sent[-1]}


async def test_a_resent_client_id_after_a_drop_makes_no_second_message(memory_server):
    ada = await log_in(memory_server.http_url, "ada")
    client_id = new_id()
    async with Client(memory_server, ada) as first:
        await first.send({"type": "message", "text": "sent just before the drop", "client_id": client_id})
    # The socket dropped before the acknowledgement could be read: the client resends.
    async with Client(memory_server, ada) as again:
        await again.send({"type": "message", "text": "sent just before the drop", "client_id": client_id})
        original = await again.next("message")
        assert original["client_id"] == client_id
        await again.send({"type": "sync", "after": original["id"] - 1})
        frames = await again.frames_until("synced")
    page = await get_json(memory_server.http_url, "/rooms/general/messages?limit=100", ada)
    assert [m["id"] for m in page["messages"] if m["client_id"] == client_id] == [original["id"]]
    assert [f["id"] for f in frames if f["type"] == "message"] == [original["id"]]


async def test_an_outside_client_is_refused_without_a_session_or_from_a_foreign_origin(memory_server):
    url = f"{memory_server.ws_url}/ws/rooms/general/"
    async with connect(url, origin=memory_server.origin, open_timeout=HTTP_WAIT) as anonymous:
        try:
            got = f"the frame {await asyncio.wait_for(anonymous.recv(), EVENT_WAIT)}"
        except ConnectionClosed as closed:
            got = closed.rcvd.code if closed.rcvd else "a close without a code"
        except TimeoutError:
            got = f"nothing for {EVENT_WAIT:g} s"
    assert got == 4401, f"A socket without a session got {got}; expected to be closed with 4401"
    cookie = await log_in(memory_server.http_url, "ada")
    with pytest.raises(InvalidStatus):
        await connect(url, origin="http://evil.example", open_timeout=HTTP_WAIT, additional_headers={"Cookie": cookie})
