"""What a clock tick looks like, on the socket and on the polling endpoint alike."""

import json
from datetime import datetime, timezone


def tick() -> dict:
    return {"type": "tick", "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}


def tick_text() -> str:
    return json.dumps(tick())
