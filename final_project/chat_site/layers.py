"""The CHANNEL_LAYERS entry of each layer the chat runs on: settings.py picks one, the tests build theirs here."""

from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# --8<-- [start:redis_options]
# redis-py 8 gives every connection a 5 s socket_timeout, and RedisChannelLayer blocks 5 s in BZPOPMIN
# waiting for the process's next event: with the default, an idle socket's read times out and its
# consumer dies with 1011. Longer than that read, yet finite, so a silently dead link is still noticed.
SOCKET_TIMEOUT = 10
# After a Redis restart, each connection the pool kept fails once ("Connection closed by server"):
# retry once, on a fresh connection, instead of failing the socket that drew it. Only that error: a
# retried timeout would hide a blocking read cut short (and the event it may have taken with it).
RETRY = Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,))
# --8<-- [end:redis_options]


def channel_layer(name: str, url: str, *, pool_size: int = 500, capacity: int = 1000,
                  group_expiry: int = 86400) -> dict:
    """redis: RedisChannelLayer · pubsub: RedisPubSubChannelLayer · memory: one process only."""
    if name == "memory":
        return {"BACKEND": "channels.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": capacity, "group_expiry": group_expiry}}
    if not url:
        raise ImproperlyConfigured(f"CHANNEL_LAYER={name} needs REDIS_URL.")
    if name == "redis":
        # A dict host: "address" is the URL, every other key goes to redis-py's connection pool.
        host = {"address": url, "max_connections": pool_size, "socket_timeout": SOCKET_TIMEOUT,
                "retry": RETRY}
        return {"BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [host], "capacity": capacity, "group_expiry": group_expiry}}
    if name == "pubsub":  # reads with short polls of its own: redis-py's socket_timeout never races them
        return {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [url]}}
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be redis, pubsub or memory, not {name!r}.")
