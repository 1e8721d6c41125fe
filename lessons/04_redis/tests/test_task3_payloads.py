"""Task 3: make a payload broker-safe (chat/payloads.py): the Redis layer speaks msgpack."""

import asyncio
import datetime
import decimal
import uuid

import pytest
from channels.layers import get_channel_layer

from chat.payloads import broker_safe
from coursekit.timing import scaled

from .chat_clients import ARRIVES

pytestmark = pytest.mark.task(3)

ORDER_ID = uuid.UUID("2f1e8c1a-3b7d-4c55-9a8e-0c7f7a1b2c3d")
PLACED_AT = datetime.datetime(2026, 11, 21, 18, 30, tzinfo=datetime.timezone.utc)
DELIVERY_DAY = datetime.date(2026, 11, 22)
# Eight tags: a set's order changes from one run to the next, so a list left unsorted shows.
TAGS = {"urgent", "gift", "fragile", "express", "paid", "wrapped", "insured", "signed"}


def rich_event() -> dict:
    """What application code likes to send: Python types msgpack does not know, and a tuple."""
    return {"type": "chat.order", "id": ORDER_ID, "placed_at": PLACED_AT, "total": decimal.Decimal("19.99"),
            "tags": set(TAGS), "size_cm": (30, 20), "lines": [{"day": DELIVERY_DAY, "qty": 2}]}


# (what, value, what broker_safe must return, the rule it follows)
CONVERSIONS = [
    ("uuid", ORDER_ID, "2f1e8c1a-3b7d-4c55-9a8e-0c7f7a1b2c3d", "a UUID becomes str(uuid)"),
    ("datetime", PLACED_AT, "2026-11-21T18:30:00+00:00", "a datetime becomes its isoformat()"),
    ("date", DELIVERY_DAY, "2026-11-22",
     "a datetime.date becomes its isoformat() too: check for datetime.date, of which datetime is a subclass"),
    ("time", datetime.time(18, 30), "18:30:00", "a datetime.time becomes its isoformat()"),
    ("decimal", decimal.Decimal("19.99"), "19.99",
     "a Decimal becomes str(decimal): a float is only an approximation of 19.99, not the amount itself"),
    ("set", set(TAGS), sorted(TAGS), "a set becomes a sorted list: a set has no order, a list on the wire must"),
    ("tuple", (30, 20), [30, 20],
     "a tuple becomes a list: msgpack sends it as an array, so Redis gives back a list while the in-memory "
     "layer keeps the tuple, and the two layers disagree"),
    ("nested", {"lines": [{"day": DELIVERY_DAY, "tags": ("a", "b")}]},
     {"lines": [{"day": "2026-11-22", "tags": ["a", "b"]}]},
     "dicts, lists and tuples are walked through: call broker_safe on every item they hold"),
]


@pytest.mark.parametrize("value, expected, rule", [case[1:] for case in CONVERSIONS],
                         ids=[case[0] for case in CONVERSIONS])
def test_broker_safe_makes_each_value_msgpack_safe(value, expected, rule):
    got = broker_safe(value)
    if got != expected:
        pytest.fail(f"broker_safe({value!r}) returned {got!r}; expected {expected!r}: {rule}.", pytrace=False)


def test_broker_safe_keeps_plain_values_and_does_not_change_its_argument():
    plain = {"text": "hi", "n": 3, "ratio": 0.5, "ok": True, "none": None, "raw": b"\x00"}
    assert broker_safe(plain) == plain, "str, int, float, bool, None and bytes must be kept as they are."
    event = rich_event()
    broker_safe(event)
    assert event == rich_event(), "broker_safe must return a new value, not change the event it was given."


async def crosses(event: dict):
    """Send `event` through the test's layer; return what came out, or the error the layer raised."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    try:
        await layer.send(channel, event)
    except TypeError as error:
        return error
    try:
        return await asyncio.wait_for(layer.receive(channel), scaled(ARRIVES))
    except TimeoutError:
        pass
    pytest.fail(f"A message sent on the layer did not arrive within {scaled(ARRIVES):g} s.", pytrace=False)


async def test_a_raw_rich_payload_fails_on_redis_but_not_in_memory(layer_name):
    # The trap: the in-memory layer keeps Python objects, so tests on it pass; Redis must encode them.
    outcome = await crosses(rich_event())
    if layer_name == "memory":
        assert outcome == rich_event(), "The in-memory layer should pass the Python objects as they are."
    else:
        assert isinstance(outcome, TypeError) and "can not serialize" in str(outcome), (
            f"msgpack should refuse the raw event on Redis; got {outcome!r}.")


async def test_a_broker_safe_payload_crosses_both_layers_unchanged(layer_name):
    event = broker_safe(rich_event())
    outcome = await crosses(event)
    if isinstance(outcome, TypeError):
        pytest.fail(f"The {layer_name} layer could not encode broker_safe(rich_event()): {outcome}. "
                    "broker_safe left a value msgpack does not know.", pytrace=False)
    assert outcome == event, (
        f"The broker-safe event changed on the way through the {layer_name} layer: sent {event!r}, "
        f"received {outcome!r}.")
