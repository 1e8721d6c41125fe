"""One factor for every wait in the course's tests: COURSE_TIME_SCALE (default 1).

Waits in tests are deadlines on the event awaited: they end as soon as the event happens, so a
generous deadline costs nothing on a fast machine. Only "nothing else arrives" checks wait out
their whole window. On a slow or busy machine, `COURSE_TIME_SCALE=3 make test` stretches them all.
"""

from __future__ import annotations

import os


def time_scale() -> float:
    try:
        scale = float(os.environ.get("COURSE_TIME_SCALE", "1"))
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


def scaled(seconds: float) -> float:
    """`seconds` stretched by COURSE_TIME_SCALE."""
    return seconds * time_scale()
