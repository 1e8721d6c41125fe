"""Task 1: configure the Redis channel layer from REDIS_URL (redissite/layers.py)."""

import asyncio

import pytest
from channels.layers import channel_layers
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis.exceptions import MaxConnectionsError

from redissite import layers

pytestmark = pytest.mark.task(1)

URL = "redis://redis.example:6379/3"
BURST = 250


def configured(**options) -> dict:
    return layers.redis_layer(URL, **{"pool_size": 300, "capacity": 200, "expiry": 30, "group_expiry": 600,
                                      **options})


def test_redis_layer_uses_RedisChannelLayer():
    backend = configured().get("BACKEND")
    assert backend == "channels_redis.core.RedisChannelLayer", (
        f'redis_layer() must name "channels_redis.core.RedisChannelLayer" as BACKEND; got {backend!r}.')


def test_redis_layer_points_at_the_url_with_a_sized_pool():
    hosts = configured().get("CONFIG", {}).get("hosts")
    assert hosts == [{"address": URL, "max_connections": 300}], (
        "CONFIG['hosts'] must be one dict host: the URL as 'address' and the pool size as "
        f"'max_connections' (a plain URL string leaves redis-py's default of 100). Got {hosts!r}.")


def test_redis_layer_passes_capacity_and_expiries():
    config = configured().get("CONFIG", {})
    found = {key: config.get(key) for key in ("capacity", "expiry", "group_expiry")}
    assert found == {"capacity": 200, "expiry": 30, "group_expiry": 600}, (
        f"CONFIG must carry capacity, expiry and group_expiry as given; got {found!r}.")


def test_pubsub_layer_uses_RedisPubSubChannelLayer_on_the_url():
    layer = layers.pubsub_layer(URL)
    assert layer == {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [URL]}}, (
        f"pubsub_layer() must name channels_redis.pubsub.RedisPubSubChannelLayer with hosts [url]; got {layer!r}.")


def test_the_CHANNEL_LAYER_setting_chooses_the_layer():
    chosen = {name: layers.channel_layer(name, URL, pool_size=1, capacity=1, expiry=1, group_expiry=1)["BACKEND"]
              for name in ("redis", "pubsub", "memory")}
    assert chosen == {
        "redis": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "memory": "channels.layers.InMemoryChannelLayer",
    }, f"Each CHANNEL_LAYER value must give its backend; got {chosen!r}."


@pytest.mark.parametrize("builder", ["redis_layer", "pubsub_layer"])
async def test_a_message_crosses_a_real_redis(builder, redis_url, settings):
    if builder == "redis_layer":
        entry = layers.redis_layer(redis_url, pool_size=10, capacity=10, expiry=10, group_expiry=60)
    else:
        entry = layers.pubsub_layer(redis_url)
    settings.CHANNEL_LAYERS = {"default": entry}
    layer = channel_layers["default"]
    channel = await layer.new_channel()
    await layer.group_add("crossing", channel)
    await layer.group_send("crossing", {"type": "chat.message", "text": "through Redis"})
    try:
        received = await asyncio.wait_for(layer.receive(channel), 2)
    except TimeoutError:
        pytest.fail(f"{builder}(): a group_send never reached the group's member through Redis.")
    finally:
        await layer.group_discard("crossing", channel)
    assert received == {"type": "chat.message", "text": "through Redis"}


async def burst(layer, group: str) -> tuple[int, int]:
    """Send BURST messages to `group` at once; return (sends that raised, messages its member received)."""
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    outcomes = await asyncio.gather(
        *(layer.group_send(group, {"type": "chat.message", "n": n}) for n in range(BURST)), return_exceptions=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert all(isinstance(error, MaxConnectionsError) for error in failed), failed[:3]
    received = 0
    while True:
        try:
            await asyncio.wait_for(layer.receive(channel), 0.2)
        except TimeoutError:
            break
        received += 1
    await layer.group_discard(group, channel)
    return len(failed), received


async def test_with_redis_py_defaults_a_burst_loses_messages(redis_url):
    # What the lesson teaches: a plain URL host and the default capacity lose most of a burst.
    failed, received = await burst(RedisChannelLayer(hosts=[redis_url]), "burst-defaults")
    assert failed > 0 and received < BURST, (failed, received)


async def test_a_burst_of_250_concurrent_sends_to_a_room_loses_nothing(redis_url):
    entry = layers.redis_layer(redis_url, pool_size=settings.REDIS_POOL_SIZE, capacity=settings.CHANNEL_CAPACITY,
                               expiry=settings.CHANNEL_EXPIRY, group_expiry=settings.GROUP_EXPIRY)
    layer = RedisChannelLayer(**entry.get("CONFIG", {}))
    failed, received = await burst(layer, "burst-sized")
    assert (failed, received) == (0, BURST), (
        f"Of {BURST} concurrent group_sends, {failed} raised 'Too many connections' (the pool is full) and "
        f"{received} arrived (over capacity, group_send drops silently). Size max_connections and capacity "
        "from the settings REDIS_POOL_SIZE and CHANNEL_CAPACITY.")
