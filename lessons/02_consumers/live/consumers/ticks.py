"""What a clock tick looks like: the same JSON as in lesson 01."""

import json
from datetime import datetime, timezone


def tick_text() -> str:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return json.dumps({"type": "tick", "time": now})
