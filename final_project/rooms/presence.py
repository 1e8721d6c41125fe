"""Who is online in each room, shared by every server process, with entries that expire.

Each open socket owns one entry (room, username, channel name) with a deadline. The socket's
heartbeat pushes the deadline on; a clean disconnect removes the entry; a process that dies takes its
heartbeats with it, so its entries pass their deadline and drop out of `online()` by themselves.

Two stores with one interface: a Redis sorted set per room (score = deadline) when REDIS_URL is
set, a dict in this process otherwise.
"""

import time

from django.conf import settings


def member(username: str, channel_name: str) -> str:
    # Usernames never contain spaces (Django allows letters, digits and @.+-_).
    return f"{username} {channel_name}"


def username_of(entry: str) -> str:
    return entry.split(" ", 1)[0]


class MemoryPresence:
    """One process only, like the in-memory channel layer."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self.rooms: dict[str, dict[str, float]] = {}

    async def join(self, room: str, username: str, channel_name: str) -> None:
        self.rooms.setdefault(room, {})[member(username, channel_name)] = time.time() + self.ttl

    refresh = join

    async def leave(self, room: str, username: str, channel_name: str) -> None:
        self.rooms.get(room, {}).pop(member(username, channel_name), None)

    async def online(self, room: str) -> list[str]:
        now = time.time()
        entries = self.rooms.get(room, {})
        for entry in [entry for entry, deadline in entries.items() if deadline <= now]:
            del entries[entry]
        return sorted({username_of(entry) for entry in entries})


# --8<-- [start:redis_presence]
class RedisPresence:
    """A sorted set per room: member "username channel", score = the entry's deadline (Unix time)."""

    def __init__(self, url: str, ttl: float):
        import redis.asyncio

        self.ttl = ttl
        self.url = url
        self.redis_module = redis.asyncio
        self.clients: dict[int, object] = {}

    def client(self):
        # One client (and pool) per event loop: tests and servers may run several loops in turn.
        import asyncio

        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self.clients:
            self.clients[loop_id] = self.redis_module.from_url(self.url, decode_responses=True)
        return self.clients[loop_id]

    @staticmethod
    def key(room: str) -> str:
        return f"presence:{room}"

    async def join(self, room: str, username: str, channel_name: str) -> None:
        key = self.key(room)
        async with self.client().pipeline(transaction=False) as pipe:
            pipe.zadd(key, {member(username, channel_name): time.time() + self.ttl})
            pipe.expire(key, int(self.ttl) + 60)  # an abandoned room's set goes away too
            await pipe.execute()

    refresh = join

    async def leave(self, room: str, username: str, channel_name: str) -> None:
        await self.client().zrem(self.key(room), member(username, channel_name))

    async def online(self, room: str) -> list[str]:
        key = self.key(room)
        async with self.client().pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())  # drop the entries past their deadline
            pipe.zrange(key, 0, -1)
            _, entries = await pipe.execute()
        return sorted({username_of(entry) for entry in entries})
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
