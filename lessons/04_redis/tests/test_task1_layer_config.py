"""Task 1: configure the Redis channel layer from REDIS_URL (redissite/layers.py)."""

import asyncio
import time
from dataclasses import dataclass

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.utils.module_loading import import_string
from redis.exceptions import MaxConnectionsError
from redis.exceptions import TimeoutError as RedisTimeoutError

from coursekit.timing import scaled
from redissite import layers

from .chat_clients import ARRIVES, described

pytestmark = pytest.mark.task(1)

URL = "redis://redis.example:6379/3"
# Four different values, so that a value in the wrong place shows which one it is.
GIVEN = {"pool_size": 300, "capacity": 200, "expiry": 30, "group_expiry": 600}
BURST = 250
REDIS_LAYER = "channels_redis.core.RedisChannelLayer"
PUBSUB_LAYER = "channels_redis.pubsub.RedisPubSubChannelLayer"


def configured() -> dict:
    return layers.redis_layer(URL, **GIVEN)


def test_redis_layer_uses_RedisChannelLayer():
    backend = configured().get("BACKEND")
    if backend == PUBSUB_LAYER:
        pytest.fail("redis_layer() chose RedisPubSubChannelLayer, which has no capacity and no expiry: it ignores "
                    f"both and lets a slow consumer's queue grow without bound. Name {REDIS_LAYER!r} as BACKEND.",
                    pytrace=False)
    assert backend == REDIS_LAYER, f"redis_layer() must name {REDIS_LAYER!r} as BACKEND; got {backend!r}."


def test_redis_layer_points_at_the_url_with_a_sized_pool():
    config = configured().get("CONFIG", {})
    hosts = config.get("hosts")
    expected = [{"address": URL, "max_connections": GIVEN["pool_size"]}]
    host = hosts[0] if isinstance(hosts, list) and len(hosts) == 1 else None
    # The host dict holds more of redis-py's options (socket_timeout: the idle-socket test checks that one).
    if isinstance(host, dict) and expected[0].items() <= host.items():
        return
    if isinstance(hosts, str):
        problem = "hosts is a bare string: it must be a list, with one entry per Redis, even when there is one."
    elif "max_connections" in config:
        problem = ("max_connections sits in CONFIG, beside capacity, where RedisChannelLayer does not take it: "
                   "it belongs inside the host dict, beside 'address'.")
    elif hosts == [URL]:
        problem = ("the host is a plain URL string, so redis-py keeps its default pool of 100 connections "
                   "(max_connections), which fails at once when a burst needs more.")
    else:
        problem = f"got {hosts!r}."
    pytest.fail("CONFIG['hosts'] must be one dict host, the URL as 'address' and the pool size as "
                f"'max_connections': {expected!r}. Instead {problem}", pytrace=False)


@pytest.mark.parametrize("key", ["capacity", "expiry", "group_expiry"])
def test_redis_layer_passes_capacity_and_expiries(key):
    config = configured().get("CONFIG", {})
    if config.get(key) == GIVEN[key]:
        return
    defaults = {"capacity": 100, "expiry": 60, "group_expiry": 86400}
    if key not in config:
        problem = (f"CONFIG has no {key!r}, so RedisChannelLayer keeps its default of {defaults[key]} "
                   "whatever the settings say.")
        if key == "capacity" and "channel_capacity" in config:
            problem += (" (channel_capacity is another option: capacities per channel-name pattern, "
                        "like {'http.request': 200}.)")
    else:
        swapped_with = next((other for other, value in GIVEN.items() if value == config[key] and other != key), None)
        problem = f"CONFIG[{key!r}] is {config[key]!r}"
        if swapped_with:
            problem += f": that is the {swapped_with} given; {key} and {swapped_with} are swapped."
    pytest.fail(f"redis_layer(..., {key}={GIVEN[key]}) must put {key}={GIVEN[key]} in CONFIG. {problem}",
                pytrace=False)


def test_pubsub_layer_uses_RedisPubSubChannelLayer_on_the_url():
    layer = layers.pubsub_layer(URL)
    expected = {"BACKEND": PUBSUB_LAYER, "CONFIG": {"hosts": [URL]}}
    if layer == expected:
        return
    hosts = layer.get("CONFIG", {}).get("hosts")
    problem = f"got {layer!r}."
    if isinstance(hosts, str):
        problem = "hosts is a bare string: it must be a list, even with one Redis: [url]."
    pytest.fail(f"pubsub_layer(url) must return {expected!r}; {problem}", pytrace=False)


def test_the_CHANNEL_LAYER_setting_chooses_the_layer():
    chosen = {name: layers.channel_layer(name, URL, pool_size=1, capacity=1, expiry=1, group_expiry=1)["BACKEND"]
              for name in ("redis", "pubsub", "memory")}
    assert chosen == {"redis": REDIS_LAYER, "pubsub": PUBSUB_LAYER, "memory": "channels.layers.InMemoryChannelLayer"}, (
        f"Each CHANNEL_LAYER value must give its backend; got {chosen!r}.")


def built(entry: dict, builder: str):
    """The layer Channels builds from a CHANNEL_LAYERS entry, as it does at start-up."""
    error = None
    try:
        return import_string(entry["BACKEND"])(**entry.get("CONFIG", {}))
    except Exception as exc:
        error = exc
    hint = ""
    if isinstance(error, TypeError) and "unexpected keyword" in str(error):
        hint = (" The layer takes hosts, capacity and the expiries; redis-py's options (max_connections, "
                "socket_timeout) go inside the host dict, beside 'address'.")
    pytest.fail(f"{builder}() returned {entry!r}; Channels cannot build a layer from it: "
                f"{type(error).__name__}: {error}.{hint}", pytrace=False)


@pytest.mark.parametrize("builder", ["redis_layer", "pubsub_layer"])
async def test_a_message_crosses_a_real_redis(builder, redis_url):
    if builder == "redis_layer":
        entry = layers.redis_layer(redis_url, pool_size=10, capacity=10, expiry=10, group_expiry=60)
    else:
        entry = layers.pubsub_layer(redis_url)
    layer = built(entry, builder)
    channel = await layer.new_channel()
    await layer.group_add("crossing", channel)
    await layer.group_send("crossing", {"type": "chat.message", "text": "through Redis"})
    received = None
    try:
        received = await asyncio.wait_for(layer.receive(channel), scaled(ARRIVES))
    except TimeoutError:
        pass
    finally:
        await layer.group_discard("crossing", channel)
    if received is None:
        pytest.fail(f"{builder}(): a group_send never reached the group's member through Redis "
                    f"within {scaled(ARRIVES):g} s.", pytrace=False)
    assert received == {"type": "chat.message", "text": "through Redis"}


# Idle longer than RedisChannelLayer's blocking read (BZPOPMIN, 5 s) lasts: a real duration under test, never scaled.
IDLE = RedisChannelLayer.brpop_timeout + 1.5
REDIS_PY_DEFAULT_SOCKET_TIMEOUT = 5  # seconds, since redis-py 8.0


class EchoThroughTheLayer(AsyncWebsocketConsumer):
    """The smallest consumer on a channel layer: it joins one group and echoes each frame through it.
    Like every consumer, it waits in the layer's receive() for as long as its socket is open."""

    def __init__(self, alias: str):
        super().__init__()
        self.channel_layer_alias = alias
        self.groups = [f"idle-{alias}"]

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.groups[0], {"type": "echo", "text": text_data})

    async def echo(self, event):
        await self.send(text_data=event["text"])


def died_idle(alias: str, entry: dict, seconds: float, error: BaseException) -> str:
    """Why the consumer on `alias` died while its socket sat idle, in the learner's words."""
    died = f"[{alias}] After {seconds:.1f} s with nothing to receive, the consumer died with"
    if not isinstance(error, RedisTimeoutError):
        return f"{died} {described(error)}."
    hosts = entry["CONFIG"].get("hosts") or [None]
    timeout = hosts[0].get("socket_timeout") if isinstance(hosts[0], dict) else None
    given = (f"your host dict sets socket_timeout={timeout!r}" if timeout is not None else
             f"redis-py 8 gives every connection socket_timeout={REDIS_PY_DEFAULT_SOCKET_TIMEOUT} by default")
    blocking = RedisChannelLayer.brpop_timeout
    return (f"{died} redis.exceptions.TimeoutError: {error}. Redis was fine, the socket was only idle: {given}, "
            f"and RedisChannelLayer waits for a message by blocking {blocking} s in BZPOPMIN, so redis-py gives up "
            f"on the read first. In daphne the socket closes with 1011 and the log says \"Exception inside "
            f"application: {error}\" (once task 4 is done, this chat closes it with 4503 and blames Redis). "
            f"Put \"socket_timeout\" in the host dict, longer than {blocking} s: REDIS_SOCKET_TIMEOUT.")


async def sits_idle(communicator: WebsocketCommunicator, alias: str, entry: dict) -> str | None:
    """Leave the socket idle for IDLE seconds: None if its consumer neither sent nor stopped, else what happened."""
    started = time.monotonic()
    output = asyncio.ensure_future(communicator.output_queue.get())
    await asyncio.wait([output, communicator.future], timeout=IDLE, return_when=asyncio.FIRST_COMPLETED)
    idle = time.monotonic() - started
    output.cancel()
    if communicator.future.done():
        error = None if communicator.future.cancelled() else communicator.future.exception()
        if error is None:
            return f"[{alias}] After {idle:.1f} s with nothing to receive, the consumer stopped."
        return died_idle(alias, entry, idle, error)
    if output.done() and not output.cancelled():
        return f"[{alias}] The socket sat idle, yet after {idle:.1f} s the consumer sent {output.result()!r}."
    return None


async def echoes(communicator: WebsocketCommunicator, alias: str) -> str | None:
    """Send a frame through the layer and back: None if it returns, else what happened."""
    try:
        await communicator.send_to(text_data="still here")
        echoed = await communicator.receive_from(timeout=scaled(ARRIVES))
    except TimeoutError:
        return (f"[{alias}] After {IDLE:g} s idle, the socket was open but a frame sent through the layer did "
                f"not come back within {scaled(ARRIVES):g} s.")
    except Exception as error:  # receive_from re-raises what the consumer raised
        return f"[{alias}] After {IDLE:g} s idle, echoing a frame through the layer raised {described(error)}"
    return None if echoed == "still here" else f"[{alias}] After {IDLE:g} s idle, a frame came back as {echoed!r}."


async def idle_then_echo(alias: str, entry: dict) -> str | None:
    """A socket on the layer `alias`, idle for IDLE seconds, then a frame through the layer and back.
    None when all went well; else what went wrong."""
    communicator = WebsocketCommunicator(EchoThroughTheLayer.as_asgi(alias=alias), "/idle/")
    try:
        connected, _ = await communicator.connect(timeout=scaled(ARRIVES))
    except Exception as error:  # connect re-raises what the consumer raised
        return f"[{alias}] The consumer failed to connect: {described(error)}"
    if not connected:
        return f"[{alias}] The consumer refused the socket."
    problem = await sits_idle(communicator, alias, entry) or await echoes(communicator, alias)
    if communicator.future.done():
        return problem
    if problem is None:
        await communicator.disconnect(timeout=scaled(ARRIVES))
    else:
        communicator.future.cancel()
        await asyncio.wait([communicator.future], timeout=scaled(ARRIVES))
    return problem


async def test_an_idle_socket_stays_open_on_both_redis_layers(settings, redis_url):
    # A socket with nothing to say is the usual case: a chat room where nobody writes for a while.
    entries = {"redis": layers.redis_layer(redis_url, pool_size=10, capacity=10, expiry=10, group_expiry=60),
               "pubsub": layers.pubsub_layer(redis_url)}
    for alias, builder in (("redis", "redis_layer"), ("pubsub", "pubsub_layer")):
        built(entries[alias], builder)  # a clear failure if Channels cannot build it
    settings.CHANNEL_LAYERS = entries
    # Both at once: the test lasts one idle period, not two.
    problems = [problem for problem in await asyncio.gather(*(idle_then_echo(alias, entry)
                                                               for alias, entry in entries.items())) if problem]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@dataclass
class Burst:
    failed: int  # sends that raised MaxConnectionsError ("Too many connections")
    stored: int  # messages Redis kept for the member; the others went over capacity
    received: int  # messages the member received


async def burst(layer: RedisChannelLayer, group: str) -> Burst:
    """Send BURST messages to a group of one member at once, then receive all that Redis kept."""
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    outcomes = await asyncio.gather(
        *(layer.group_send(group, {"type": "chat.message", "n": n}) for n in range(BURST)), return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    unexpected = [error for error in errors if not isinstance(error, MaxConnectionsError)]
    if unexpected:
        pytest.fail(f"group_send raised {type(unexpected[0]).__name__}: {unexpected[0]}", pytrace=False)
    # Every send has returned: what Redis holds for the member now is all that can ever arrive
    # (channels_redis keeps all process-local channels of a layer in one sorted set, asgispecific.<prefix>!).
    stored = await layer.connection(0).zcard(layer.prefix + layer.non_local_name(channel))
    received = 0
    try:
        async with asyncio.timeout(scaled(ARRIVES)):
            while received < stored:
                await layer.receive(channel)
                received += 1
    except TimeoutError:
        pass
    await layer.group_discard(group, channel)
    return Burst(failed=len(errors), stored=stored, received=received)


async def test_with_redis_py_defaults_a_burst_loses_messages(redis_url):
    # What the lesson teaches: a plain URL host and the default capacity lose most of a burst.
    outcome = await burst(RedisChannelLayer(hosts=[redis_url]), "burst-defaults")
    print(f"defaults: {outcome.failed} of {BURST} sends raised, {outcome.received} arrived")
    assert outcome.failed > 0 and outcome.received < BURST, outcome


async def test_a_burst_of_250_concurrent_sends_to_a_room_loses_nothing(redis_url):
    entry = layers.redis_layer(redis_url, pool_size=settings.REDIS_POOL_SIZE, capacity=settings.CHANNEL_CAPACITY,
                               expiry=settings.CHANNEL_EXPIRY, group_expiry=settings.GROUP_EXPIRY)
    outcome = await burst(built(entry, "redis_layer"), "burst-sized")
    problems = []
    if outcome.failed:
        problems.append(f"{outcome.failed} raised 'Too many connections': the connection pool is full; size it "
                        "with max_connections in the host dict, from REDIS_POOL_SIZE")
    if outcome.stored < BURST - outcome.failed:
        problems.append(f"only {outcome.stored} were kept by Redis: the others went over the channel's capacity, "
                        "and group_send drops those silently; set capacity from CHANNEL_CAPACITY")
    if outcome.received < outcome.stored:
        problems.append(f"{outcome.stored} were kept but only {outcome.received} arrived within "
                        f"{scaled(ARRIVES):g} s")
    if problems:
        pytest.fail(f"Of {BURST} concurrent group_sends to a room: " + "; ".join(problems) + ".", pytrace=False)
