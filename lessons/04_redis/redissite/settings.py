"""Settings for lesson 04: one chat, served by as many processes as you like, joined by Redis."""

import os
from pathlib import Path

from redissite import layers

BASE_DIR = Path(__file__).resolve().parent.parent

# A lesson project, never deployed: a fixed key and DEBUG on keep it runnable with no set-up.
SECRET_KEY = "lesson-04-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # daphne first: its `runserver` replaces Django's, so `manage.py runserver` speaks ASGI.
    "daphne",
    "django.contrib.staticfiles",
    "chat",
]

ROOT_URLCONF = "redissite.urls"
ASGI_APPLICATION = "redissite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

# The chat stores nothing: the broker carries the messages, no database is needed.
DATABASES = {}

STATIC_URL = "static/"
USE_TZ = True
TIME_ZONE = "UTC"

# --8<-- [start:channel_layers]
# Which channel layer carries the messages between consumers:
#   redis   RedisChannelLayer: every process shares one Redis (the default here)
#   pubsub  RedisPubSubChannelLayer: Redis pub/sub, lighter, no capacity or expiry
#   memory  InMemoryChannelLayer: one process only, for tests and demos
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "redis")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Connections each process may open to Redis. redis-py's default is 100, and a full pool
# fails at once instead of waiting: size it for your busiest burst of concurrent sends.
REDIS_POOL_SIZE = int(os.environ.get("REDIS_POOL_SIZE", "500"))
# Messages waiting in one channel before the layer drops new ones (silently, for group_send).
CHANNEL_CAPACITY = int(os.environ.get("CHANNEL_CAPACITY", "1000"))
# Seconds an undelivered message lives in Redis.
CHANNEL_EXPIRY = int(os.environ.get("CHANNEL_EXPIRY", "60"))
# Seconds a channel stays in a group without being added again (a day, the default).
GROUP_EXPIRY = int(os.environ.get("GROUP_EXPIRY", "86400"))

CHANNEL_LAYERS = {
    "default": layers.channel_layer(
        CHANNEL_LAYER,
        REDIS_URL,
        pool_size=REDIS_POOL_SIZE,
        capacity=CHANNEL_CAPACITY,
        expiry=CHANNEL_EXPIRY,
        group_expiry=GROUP_EXPIRY,
    )
}
# --8<-- [end:channel_layers]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"chat": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
