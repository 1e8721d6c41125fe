"""Two daphne processes on one real Redis behave as one chat, and a dead process's users leave the list."""

import uuid

import pytest

from coursekit.timing import scaled

from .live import Client, log_in, prepare_database

PRESENCE_TTL = 1.5  # pytest.ini's course_server_env gives the servers this expiry


@pytest.fixture(scope="module", params=[("redis", 1), ("pubsub", 4)], ids=["redis", "pubsub"])
def redis_env(request, redis_url, tmp_path_factory):
    # A database of the test Redis of its own per layer: the communicator tests flush database 0.
    layer, database = request.param
    env = prepare_database(tmp_path_factory.mktemp(f"{layer}-db"))
    return {**env, "REDIS_URL": f"{redis_url.rsplit('/', 1)[0]}/{database}", "CHANNEL_LAYER": layer}


@pytest.fixture(scope="module")
def first_server(start_daphne, redis_env):
    return start_daphne(env=redis_env)


@pytest.fixture
def second_server(start_daphne, redis_env):
    return start_daphne(env=redis_env)


async def test_messages_presence_and_typing_cross_processes_and_a_dead_process_leaves(first_server, second_server):
    ada = await log_in(first_server.http_url, "ada")
    bob = await log_in(second_server.http_url, "bob")  # one database: a session from either works on both
    async with Client(first_server, ada) as alice, Client(second_server, bob) as bobs:
        assert bobs.welcome["online"] == ["ada", "bob"]
        await alice.presence_becomes(["ada", "bob"])

        await alice.send({"type": "message", "text": "from process one", "client_id": uuid.uuid4().hex})
        assert (await bobs.next("message"))["text"] == "from process one"
        assert (await alice.next("message"))["text"] == "from process one"  # her acknowledgement
        await bobs.send({"type": "message", "text": "from process two", "client_id": uuid.uuid4().hex})
        assert (await alice.next("message"))["text"] == "from process two"

        await bobs.send({"type": "typing"})
        assert await alice.next("typing") == {"type": "typing", "user": "bob"}

        # Kill the second process outright: no disconnect handler runs, its presence entries stay in
        # Redis until they expire, and ada's heartbeat then notices.
        second_server.process.kill()
        second_server.process.wait()
        await alice.presence_becomes(["ada"], timeout=PRESENCE_TTL + scaled(5))


async def test_history_and_sync_are_shared_by_both_processes(first_server, second_server):
    ada = await log_in(first_server.http_url, "ada")
    async with Client(first_server, ada) as on_first:
        await on_first.send({"type": "message", "text": "stored once", "client_id": uuid.uuid4().hex})
        stored = await on_first.next("message")
    async with Client(second_server, ada) as on_second:
        assert on_second.welcome["last_id"] >= stored["id"]
        await on_second.send({"type": "sync", "after": stored["id"] - 1})
        frames = await on_second.frames_until("synced")
        assert stored in frames
