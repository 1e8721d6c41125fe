"""Catch-up never skips a message while many write at once on several processes, even when a commit stalls.

A `sync` asks for "every message after id N". That is only safe if, once a client has seen id N, no
message below N can still appear. On PostgreSQL a primary key is taken at INSERT and transactions
commit in any order, so it does not hold for the primary key; it holds for the room's own numbering
(Message.seq, taken under a lock on the room's row). This test makes the race certain instead of
waiting for it: it holds a lock that one writer's INSERT needs, after that writer took its number and
before it commits, while the others write and the readers catch up.
"""

import asyncio
import sqlite3
import uuid

import pytest

from coursekit.timing import scaled

from .live import Client, log_in, prepare_database

WRITERS = [f"writer{n}" for n in range(6)]
READERS = ["reader0", "reader1"]
STALLED = "stalled"
ACK_WAIT = scaled(30)  # a writer queued behind the stalled commit waits for it
STALL_AT_MOST = scaled(2)  # long enough for the others to commit around the stalled writer, if they can


@pytest.fixture(scope="module")
def database_env(tmp_path_factory):
    return prepare_database(tmp_path_factory.mktemp("concurrency-db"), users=[*WRITERS, *READERS, STALLED])


@pytest.fixture(scope="module")
def three_servers(start_daphne, redis_url, database_env):
    """Writers on the first two; readers on the third. A process runs its database calls one at a time on
    one thread, so a process whose writer waits for the stalled commit waits with it: a reader there
    could not read until the stall ends."""
    env = {**database_env, "REDIS_URL": f"{redis_url.rsplit('/', 1)[0]}/5", "CHANNEL_LAYER": "redis",
           "CHAT_RATE_LIMIT": "1000/1"}
    return start_daphne(env=env), start_daphne(env=env), start_daphne(env=env)


class Stall:
    """Holds the lock a message of `username` needs before its commit, until release().

    PostgreSQL: the user's row, locked FOR UPDATE: the INSERT of their message checks its foreign key to
    that row, so it waits after the message took its id and its number. SQLite: the database's write lock
    (one writer at a time there, so nothing can commit around the stalled one anyway)."""

    def __init__(self, env: dict[str, str], username: str):
        self.env, self.username = env, username
        self.postgres = bool(env.get("DATABASE_URL"))

    async def hold(self) -> None:
        # In a thread: while SQLite's write lock passes from writer to writer, BEGIN IMMEDIATE can wait its turn
        # for seconds, and the writers' and readers' sockets on this test's event loop must be read meanwhile.
        await asyncio.to_thread(self._take_the_lock)

    def _take_the_lock(self) -> None:
        if self.postgres:
            import psycopg

            self.connection = psycopg.connect(self.env["DATABASE_URL"])
            self.connection.execute("SELECT 1 FROM auth_user WHERE username = %s FOR UPDATE", [self.username])
        else:
            self.connection = sqlite3.connect(self.env["DATABASE_PATH"], isolation_level=None, timeout=30,
                                              check_same_thread=False)
            self.connection.execute("BEGIN IMMEDIATE")

    async def until_a_writer_waits(self) -> None:
        """PostgreSQL shows the stalled INSERT waiting for the lock; SQLite shows nothing."""
        if not self.postgres:
            return
        import psycopg

        deadline = asyncio.get_running_loop().time() + scaled(10)
        with psycopg.connect(self.connection.info.dsn, autocommit=True) as watcher:
            while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'").fetchone()[0]:
                assert asyncio.get_running_loop().time() < deadline, "the stalled message never reached its INSERT"
                await asyncio.sleep(0.02)

    def release(self) -> None:
        self.connection.commit() if self.postgres else self.connection.execute("COMMIT")
        self.connection.close()


async def write(server, cookie: str, stop: asyncio.Event, acked: dict[str, int], recent: list) -> None:
    """Send messages one after another, each when the last one came back, until `stop`."""
    async with Client(server, cookie) as client:
        while not stop.is_set():
            client_id = uuid.uuid4().hex
            await client.send({"type": "message", "text": f"message {len(acked)}", "client_id": client_id})
            acked[client_id] = await acknowledgement(client, client_id)
            recent.append(client_id)


async def acknowledgement(client: Client, client_id: str) -> int:
    """The id of the message sent as `client_id`, when it comes back (the room's other messages pass by)."""
    while (frame := await client.next("message", timeout=ACK_WAIT))["client_id"] != client_id:
        pass
    return frame["id"]


async def until(condition, timeout: float = ACK_WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"the writers stopped writing ({timeout:g} s)"
        await asyncio.sleep(0.01)


class Reader:
    """A client that reconnects all the time: each visit opens a socket, syncs from the last id it was
    told everything up to (synced.last_id), collects what comes, and leaves."""

    def __init__(self, username: str):
        self.username, self.after, self.seen, self.visits = username, 0, set(), []

    async def visit(self, server, cookie: str) -> int:
        async with Client(server, cookie) as client:
            await client.send({"type": "sync", "after": self.after})
            frames = await client.frames_until("synced", timeout=ACK_WAIT)
        replayed = [frame for frame in frames if frame["type"] == "message"]
        self.seen.update(frame["client_id"] for frame in replayed)
        self.visits.append((self.after, [frame["id"] for frame in replayed], frames[-1]["last_id"]))
        self.after = frames[-1]["last_id"]
        return len(replayed)


async def test_readers_that_reconnect_all_the_time_miss_nothing_while_many_write_and_a_commit_stalls(
        three_servers, database_env):
    first, _, third = three_servers
    readers = [Reader(name) for name in READERS]
    cookies = {name: await log_in(server.http_url, name)
               for name, server in [*((reader.username, third) for reader in readers), (STALLED, first),
                                    *((name, three_servers[n % 2]) for n, name in enumerate(WRITERS))]}
    acked: dict[str, int] = {}
    recent: list[str] = []  # client_ids acknowledged since the last look
    stop_writing = asyncio.Event()
    writers = [asyncio.create_task(write(three_servers[n % 2], cookies[name], stop_writing, acked, recent))
               for n, name in enumerate(WRITERS)]

    # Everyone writes; the readers catch up on the third process while one commit on the first stalls.
    await until(lambda: len(acked) >= 3 * len(WRITERS))
    stalled_client_id = uuid.uuid4().hex
    async with Client(first, cookies[STALLED]) as stalled:
        stall = Stall(database_env, STALLED)
        await stall.hold()
        await stalled.send({"type": "message", "text": "the stalled one", "client_id": stalled_client_id})
        await stall.until_a_writer_waits()
        recent.clear()
        deadline = asyncio.get_running_loop().time() + STALL_AT_MOST
        # Until a reader has been given more messages acknowledged since the stall began than there are
        # writers, if any can commit around the stalled one. Each writer has one message in flight at most,
        # so one of those took its id after the stalled one: that reader now syncs from past the stalled id.
        while asyncio.get_running_loop().time() < deadline:
            for reader in readers:
                await reader.visit(third, cookies[reader.username])
            if any(len(reader.seen.intersection(recent)) > len(WRITERS) for reader in readers):
                break
        stall.release()
        acked[stalled_client_id] = await acknowledgement(stalled, stalled_client_id)

    written = len(acked)
    await until(lambda: len(acked) >= written + 3 * len(WRITERS))  # and on, after the stall
    stop_writing.set()
    await asyncio.gather(*writers)
    for reader in readers:
        await reader.visit(third, cookies[reader.username])  # the last visit, after every write

    for reader in readers:
        missed = {client_id: acked[client_id] for client_id in acked.keys() - reader.seen}
        assert not missed, (
            f"{reader.username} never received {len(missed)} of {len(acked)} acknowledged messages, ids "
            f"{sorted(missed.values())[:10]}: it synced from an id past them, so they were committed after a "
            "message with a higher id had been read. Ids must be numbers taken in commit order (a per-room "
            "sequence under a lock), not the primary key. Its visits (after, ids replayed, synced.last_id): "
            f"{[visit for visit in reader.visits if any(missed_id in visit[1] or visit[0] < missed_id < visit[2] for missed_id in missed.values())][:5]}")
    numbers = sorted(acked.values())
    assert numbers == list(range(1, len(acked) + 1)), (
        f"the room's messages are numbered {numbers[:5]}...{numbers[-5:]}, not 1 to {len(acked)} with no hole")
