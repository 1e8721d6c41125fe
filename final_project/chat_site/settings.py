"""Settings for the chat, read from the environment, safe by default.

Production needs at least SECRET_KEY (and ALLOWED_HOSTS for its domain). Nothing here turns DEBUG
on: development runs use chat_site/dev_settings.py, which manage.py picks by default.

Environment:
  SECRET_KEY       required
  DEBUG            "1"/"true" to turn debugging on (off by default)
  ALLOWED_HOSTS    comma-separated hosts (default: 127.0.0.1,localhost); the Origin check uses it too
  CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://chat.example.com (behind a TLS proxy)
  DATABASE_URL     e.g. postgresql://chat:secret@127.0.0.1:5432/chat (default: SQLite, DATABASE_PATH)
  DATABASE_PATH    the SQLite file when DATABASE_URL is unset (default: db.sqlite3 next to manage.py)
  DATABASE_POOL_SIZE  PostgreSQL connections per server process at most (default 10)
  REDIS_URL        e.g. redis://127.0.0.1:6379/0: turns on the Redis layer and Redis presence
  CHANNEL_LAYER    redis | pubsub | memory (default: redis when REDIS_URL is set, else memory)
  REDIS_POOL_SIZE, CHANNEL_CAPACITY   the Redis layer's sizing (see lesson 04)
  PRESENCE_TTL     seconds an online entry lives without a heartbeat (default 30)
  CHAT_RATE_LIMIT  messages/seconds per socket (default 10/10)
  STATIC_ROOT      where collectstatic puts the files the proxy serves
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from chat_site import databases, layers

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --8<-- [start:environment]
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Set SECRET_KEY in the environment. For a local run, use manage.py (it picks "
        "chat_site.dev_settings) or DJANGO_SETTINGS_MODULE=chat_site.dev_settings.")
DEBUG = env_flag("DEBUG")
# AllowedHostsOriginValidator reads this list too: a socket's Origin must name one of these hosts.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# --8<-- [end:environment]

INSTALLED_APPS = [
    # daphne first: its `runserver` replaces Django's, so `manage.py runserver` speaks ASGI.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "rooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chat_site.urls"
ASGI_APPLICATION = "chat_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --8<-- [start:databases]
# DATABASE_URL=postgresql://user:password@host:5432/chat in production; unset, the SQLite file DATABASE_PATH.
DATABASES = {"default": databases.from_environment(
    os.environ.get("DATABASE_URL", ""),
    os.environ.get("DATABASE_PATH", str(BASE_DIR / "db.sqlite3")),
    pool_size=int(os.environ.get("DATABASE_POOL_SIZE", "10")))}
# --8<-- [end:databases]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lobby"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
USE_TZ = True
TIME_ZONE = "UTC"

# Cookies only over HTTPS once DEBUG is off (the proxy terminates TLS and says so in a header).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG and env_flag("SECURE_COOKIES", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --8<-- [start:channel_layers]
REDIS_URL = os.environ.get("REDIS_URL", "")
# redis: RedisChannelLayer (capacity, expiry) · pubsub: RedisPubSubChannelLayer · memory: one process only
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "redis" if REDIS_URL else "memory")
# redis-py's async pool fails at once when full (default 100): size it for the busiest burst.
REDIS_POOL_SIZE = int(os.environ.get("REDIS_POOL_SIZE", "500"))
# Over capacity, group_send drops silently: history + sync recover, but keep it well above a burst.
CHANNEL_CAPACITY = int(os.environ.get("CHANNEL_CAPACITY", "1000"))

# Presence: who is online, per room. In Redis (shared by every process) when REDIS_URL is set.
# An entry lives PRESENCE_TTL seconds unless its socket's heartbeat refreshes it, so the users of a
# process that dies (or of a consumer that crashed) leave the list within PRESENCE_TTL.
PRESENCE_TTL = float(os.environ.get("PRESENCE_TTL", "30"))
# The heartbeat (every PRESENCE_TTL / 3) also renews the socket's place in its groups, so a group
# forgets within this time the channels of a process that died; long-lived sockets stay.
GROUP_EXPIRY = max(60, int(3 * PRESENCE_TTL))

# The layer's options, and why each (redis-py 8's socket_timeout among them): chat_site/layers.py.
CHANNEL_LAYERS = {"default": layers.channel_layer(CHANNEL_LAYER, REDIS_URL, pool_size=REDIS_POOL_SIZE,
                                                  capacity=CHANNEL_CAPACITY, group_expiry=GROUP_EXPIRY)}
# --8<-- [end:channel_layers]

# The chat's rules (the protocol page documents them).
CHAT_MAX_TEXT = 2000
# At most 10 messages per 10 seconds per socket ("messages/seconds"; bench.py raises it).
CHAT_RATE_LIMIT = tuple(float(n) for n in os.environ.get("CHAT_RATE_LIMIT", "10/10").split("/"))
# At most 5 sync frames per 10 seconds per socket: a reconnect needs one, a long absence one per 500 messages.
CHAT_SYNC_RATE_LIMIT = (5, 10.0)
CHAT_HISTORY_PAGE = 50
CHAT_SYNC_BATCH = 500
# The largest client frame read (characters); larger ones get a `too_big` error without being parsed.
# A 2,000-character message, every character escaped as \uXXXX, fits. daphne itself drops the
# connection on a frame over 1 MiB (websocket_max_message_size), before the chat sees it.
CHAT_MAX_FRAME = 16 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)-8s %(name)s %(message)s"}},
    "filters": {"broker_outage": {"()": "chat_site.logfilters.BrokerOutageAsWarning"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"},
                 "outage": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["broker_outage"]}},
    "loggers": {"rooms": {"handlers": ["console"], "level": "INFO", "propagate": False},
                # Redis away: the chat closes sockets with 4503 and says so; the layer's own reports of it
                # are warnings too (chat_site/logfilters.py). Its other errors stay errors.
                "channels_redis": {"handlers": ["outage"], "level": "INFO", "propagate": False}},
}
