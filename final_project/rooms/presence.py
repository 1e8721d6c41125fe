"""Who is online in each room, shared by every server process, with entries that expire.

Each open socket owns one entry (room, channel name, username) with a deadline. The socket's
heartbeat pushes the deadline on; a clean disconnect removes the entry; a process that dies, or a
consumer that crashes, stops its heartbeats, so its entries pass their deadline and drop out.

Each room also has a version, raised whenever its list may have changed (a join, a leave, an entry
past its deadline). A heartbeat costs O(1): it refreshes its own entry and reads the version; only
when the version moved past the one its client was last sent does it read the whole list.

Two stores with one interface: Redis (a sorted set per room, score = deadline, plus a counter) when
REDIS_URL is set, dicts in this process otherwise.
"""

import asyncio
import time
from dataclasses import dataclass

from django.conf import settings


def member(channel_name: str, username: str) -> str:
    # Channel names never contain spaces (Channels allows only ASCII letters, digits, "-_.!"), so the
    # first space ends the channel name and everything after it, spaces included, is the username.
    return f"{channel_name} {username}"


def username_of(entry: str) -> str:
    return entry.split(" ", 1)[1]


@dataclass(frozen=True)
class RoomList:
    """The room's online usernames (sorted, each once) and the version they were read at."""

    online: list[str]
    version: int


class MemoryPresence:
    """One process only, like the in-memory channel layer."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self.rooms: dict[str, dict[str, float]] = {}
        self.versions: dict[str, int] = {}

    def bump(self, room: str) -> int:
        self.versions[room] = self.versions.get(room, 0) + 1
        return self.versions[room]

    def expire(self, room: str) -> int:
        now = time.time()
        entries = self.rooms.get(room, {})
        expired = [entry for entry, deadline in entries.items() if deadline <= now]
        for entry in expired:
            del entries[entry]
        return len(expired)

    def snapshot(self, room: str) -> RoomList:
        names = {username_of(entry) for entry in self.rooms.get(room, {})}
        return RoomList(sorted(names), self.versions.get(room, 0))

    async def join(self, room: str, username: str, channel_name: str) -> RoomList:
        self.expire(room)
        self.rooms.setdefault(room, {})[member(channel_name, username)] = time.time() + self.ttl
        self.bump(room)
        return self.snapshot(room)

    async def leave(self, room: str, username: str, channel_name: str) -> RoomList:
        self.expire(room)
        self.rooms.get(room, {}).pop(member(channel_name, username), None)
        self.bump(room)
        return self.snapshot(room)

    async def refresh(self, room: str, username: str, channel_name: str) -> int:
        entries = self.rooms.setdefault(room, {})
        entry = member(channel_name, username)
        changed = self.expire(room) + (entry not in entries)
        entries[entry] = time.time() + self.ttl
        return self.bump(room) if changed else self.versions.get(room, 0)

    async def online(self, room: str) -> RoomList:
        if self.expire(room):
            self.bump(room)
        return self.snapshot(room)


# --8<-- [start:redis_presence]
# One heartbeat in one round trip: drop the room's expired entries, refresh this socket's entry, and
# raise the version when either changed the list. Returns the version.
REFRESH = """
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local added = redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if removed + added > 0 then return redis.call('INCR', KEYS[2]) end
return tonumber(redis.call('GET', KEYS[2]) or '0')
"""


class RedisPresence:
    """Per room: a sorted set (member "channel username", score = deadline) and a version counter."""

    def __init__(self, url: str, ttl: float):
        import redis.asyncio

        self.ttl = ttl
        self.url = url
        self.redis_module = redis.asyncio
        self.clients: dict[int, object] = {}

    def client(self):
        # One client (and pool) per event loop: tests and servers may run several loops in turn.
        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self.clients:
            self.clients[loop_id] = self.redis_module.from_url(self.url, decode_responses=True)
        return self.clients[loop_id]

    @staticmethod
    def keys(room: str) -> tuple[str, str]:
        return f"presence:{room}", f"presence:{room}:version"

    def lifetime(self) -> int:
        return int(self.ttl) + 60  # an abandoned room's keys go away too

    async def change(self, room: str, update) -> RoomList:
        """Apply `update(pipe, entries_key)`, drop expired entries, raise the version and read the list,
        all in one transaction (MULTI/EXEC), so the list and its version always go together."""
        entries, version = self.keys(room)
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(entries, "-inf", time.time())
            update(pipe, entries)
            pipe.expire(entries, self.lifetime())
            pipe.incr(version)
            pipe.expire(version, self.lifetime())
            pipe.zrange(entries, 0, -1)
            *_, new_version, _, names = await pipe.execute()
        return RoomList(sorted({username_of(entry) for entry in names}), new_version)

    async def join(self, room: str, username: str, channel_name: str) -> RoomList:
        deadline = time.time() + self.ttl
        return await self.change(room, lambda pipe, key: pipe.zadd(key, {member(channel_name, username): deadline}))

    async def leave(self, room: str, username: str, channel_name: str) -> RoomList:
        return await self.change(room, lambda pipe, key: pipe.zrem(key, member(channel_name, username)))

    async def refresh(self, room: str, username: str, channel_name: str) -> int:
        now = time.time()
        return int(await self.client().eval(
            REFRESH, 2, *self.keys(room), now, now + self.ttl, member(channel_name, username), self.lifetime()))

    async def online(self, room: str) -> RoomList:
        """The list and its version, read together (refresh() drops the expired entries)."""
        entries, version = self.keys(room)
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.zrange(entries, 0, -1)
            pipe.get(version)
            names, number = await pipe.execute()
        return RoomList(sorted({username_of(entry) for entry in names}), int(number or 0))
# --8<-- [end:redis_presence]


_store = None
_store_config = None


def get_presence():
    """The store for the current settings (rebuilt when a test changes them)."""
    global _store, _store_config
    config = (settings.REDIS_URL, settings.PRESENCE_TTL)
    if _store is None or config != _store_config:
        url, ttl = config
        _store = RedisPresence(url, ttl) if url else MemoryPresence(ttl)
        _store_config = config
    return _store
