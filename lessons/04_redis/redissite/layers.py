"""The CHANNEL_LAYERS entries this project can run on, built from plain values."""


def memory_layer() -> dict:
    """One process only: consumers in another process never see these messages."""
    return {"BACKEND": "channels.layers.InMemoryChannelLayer"}


# --8<-- [start:redis_layer]
# Seconds redis-py waits for a reply: longer than the 5 s RedisChannelLayer blocks in BZPOPMIN.
REDIS_SOCKET_TIMEOUT = 10


def redis_layer(url: str, *, pool_size: int, capacity: int, expiry: int, group_expiry: int) -> dict:
    """RedisChannelLayer on the Redis at `url`, with a connection pool of `pool_size` per process."""
    # --8<-- [end:redis_layer]
    # BEGIN SOLUTION task=1
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # A dict host: "address" is the URL, every other key goes to redis-py's ConnectionPool.
            "hosts": [{"address": url, "max_connections": pool_size, "socket_timeout": REDIS_SOCKET_TIMEOUT}],
            "capacity": capacity,
            "expiry": expiry,
            "group_expiry": group_expiry,
        },
    }
    # END SOLUTION


# --8<-- [start:pubsub_layer]
def pubsub_layer(url: str) -> dict:
    """RedisPubSubChannelLayer: one PUBLISH per group message, no capacity, no expiry."""
    # --8<-- [end:pubsub_layer]
    # BEGIN SOLUTION task=1
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [url]},
    }
    # END SOLUTION


def channel_layer(name: str, url: str, **redis_options) -> dict:
    """The layer called `name` (redis, pubsub or memory)."""
    if name == "redis":
        return redis_layer(url, **redis_options)
    if name == "pubsub":
        return pubsub_layer(url)
    if name == "memory":
        return memory_layer()
    raise ValueError(f"CHANNEL_LAYER must be redis, pubsub or memory, not {name!r}")
