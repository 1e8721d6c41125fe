"""Making a message safe for the Redis layer, which encodes every message with msgpack."""

import datetime
import decimal
import uuid


# --8<-- [start:broker_safe]
def broker_safe(value):
    """`value` with every part msgpack can encode: UUIDs, dates and Decimals as text, sets as sorted lists.

    dict, list and tuple are walked through; str, int, float, bool, None and bytes are kept as they are.
    """
    # BEGIN SOLUTION task=3
    if isinstance(value, dict):
        return {str(key): broker_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [broker_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(broker_safe(item) for item in value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        # str, not float: "19.99" stays exactly 19.99.
        return str(value)
    return value
    # END SOLUTION
# --8<-- [end:broker_safe]
