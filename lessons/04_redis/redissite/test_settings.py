"""The tests' settings: the lesson's settings, on the in-memory layer unless CHANNEL_LAYER says otherwise.

Each test then picks its layer (in-memory or Redis) itself; a daphne child process gets its layer
from the CHANNEL_LAYER the test passes in its environment.
"""

import os

os.environ.setdefault("CHANNEL_LAYER", "memory")

from redissite.settings import *  # noqa: E402,F401,F403
