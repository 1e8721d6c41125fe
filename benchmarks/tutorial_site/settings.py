"""The smallest Django project that serves the tutorial's consumer: no database, no sessions, no auth.

BENCH_LAYER picks the channel layer: memory (InMemoryChannelLayer), pubsub (RedisPubSubChannelLayer) or
redis (RedisChannelLayer), the last two on REDIS_URL.
"""

import os

SECRET_KEY = "benchmark-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES = {}
ROOT_URLCONF = None
ASGI_APPLICATION = "benchmarks.tutorial_site.asgi.application"
USE_TZ = True

LAYER = os.environ.get("BENCH_LAYER", "memory")
REDIS_URL = os.environ.get("REDIS_URL", "")
if LAYER == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif LAYER == "pubsub":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL]}}}
elif LAYER == "redis":
    # The tutorial's configuration, plus the one setting without which redis-py 8 closes idle sockets
    # (its 5 s socket_timeout against the layer's 5 s blocking read: see the course's lesson 04).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]}}}
else:
    raise ValueError(f"BENCH_LAYER must be memory, pubsub or redis, not {LAYER!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
