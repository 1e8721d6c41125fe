"""Settings for the examples: SQLite, and the in-memory layer unless REDIS_URL is set."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "examples-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# --8<-- [start:installed_apps]
INSTALLED_APPS = [
    "daphne",  # first: its runserver replaces Django's, and speaks ASGI
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",  # only for `manage.py runworker`; consumers work without it
    "channels1_today",
]
ASGI_APPLICATION = "channels1_today.asgi.application"
# --8<-- [end:installed_apps]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# --8<-- [start:channel_layers]
# No "ROUTING" key: ASGI_APPLICATION above names the routing.
REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout above the layer's 5 s blocking read (see Troubleshooting).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]},
        }
    }
else:
    # One process only: fine for runserver and tests, not for several servers or runworker.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# --8<-- [end:channel_layers]
