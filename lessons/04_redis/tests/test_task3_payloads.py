"""Task 3: make a payload broker-safe (chat/payloads.py): the Redis layer speaks msgpack."""

import asyncio
import datetime
import decimal
import uuid

import pytest
from channels.layers import get_channel_layer

from chat.payloads import broker_safe

pytestmark = pytest.mark.task(3)

ORDER_ID = uuid.UUID("2f1e8c1a-3b7d-4c55-9a8e-0c7f7a1b2c3d")
PLACED_AT = datetime.datetime(2026, 11, 21, 18, 30, tzinfo=datetime.timezone.utc)


def rich_event() -> dict:
    """What application code likes to send: Python types msgpack does not know."""
    return {"type": "chat.order", "id": ORDER_ID, "placed_at": PLACED_AT, "total": decimal.Decimal("19.99"),
            "tags": {"urgent", "gift"}, "lines": [{"day": datetime.date(2026, 11, 22), "qty": 2}]}


async def crosses(event: dict) -> dict:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, event)
    return await asyncio.wait_for(layer.receive(channel), 2)


def test_broker_safe_turns_each_python_type_into_msgpack_types():
    safe = broker_safe(rich_event())
    assert safe == {"type": "chat.order", "id": "2f1e8c1a-3b7d-4c55-9a8e-0c7f7a1b2c3d",
                    "placed_at": "2026-11-21T18:30:00+00:00", "total": "19.99", "tags": ["gift", "urgent"],
                    "lines": [{"day": "2026-11-22", "qty": 2}]}, (
        "Expected UUID -> str, datetime/date -> isoformat(), Decimal -> str (exact, not float), "
        f"set -> sorted list, walking into dicts and lists; got {safe!r}.")


def test_broker_safe_keeps_plain_values_and_does_not_change_its_argument():
    plain = {"text": "hi", "n": 3, "ratio": 0.5, "ok": True, "none": None, "raw": b"\x00"}
    event = rich_event()
    assert broker_safe(plain) == plain
    broker_safe(event)
    assert event == rich_event(), "broker_safe must return a new value, not change the event it was given."


async def test_a_raw_rich_payload_fails_on_redis_but_not_in_memory(layer_name):
    # The trap: the in-memory layer keeps Python objects, so tests on it pass; Redis must encode them.
    if layer_name == "memory":
        assert (await crosses(rich_event()))["id"] == ORDER_ID
    else:
        with pytest.raises(TypeError, match="can not serialize"):
            await crosses(rich_event())


async def test_a_broker_safe_payload_crosses_both_layers_unchanged(layer_name):
    event = broker_safe(rich_event())
    assert await crosses(event) == event, f"The broker-safe event changed on the way through the {layer_name} layer."
