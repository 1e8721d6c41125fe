"""Settings for lesson 03: chat rooms on the in-memory channel layer."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A lesson project, never deployed: a fixed key and DEBUG on keep it runnable with no set-up.
SECRET_KEY = "lesson-03-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # daphne first: its `runserver` replaces Django's, so `manage.py runserver` speaks ASGI.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
WSGI_APPLICATION = "chatsite.wsgi.application"
ASGI_APPLICATION = "chatsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# The tests point a live server at a throwaway database through DATABASE_PATH.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DATABASE_PATH", BASE_DIR / "db.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
USE_TZ = True
TIME_ZONE = "UTC"

# --8<-- [start:channel_layers]
# One layer for the whole process, held in memory. Its values are the defaults, written out:
# a channel holds at most 100 waiting messages (capacity), a message waits at most 60 s
# (expiry), a group membership lasts at most a day (group_expiry). Two server processes do NOT
# share it: lesson 04 replaces it with Redis.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"capacity": 100, "expiry": 60, "group_expiry": 86400},
    }
}
# --8<-- [end:channel_layers]

# The shared secret a script must send to POST a notice to a room (see chat/views.py).
NOTICE_TOKEN = os.environ.get("NOTICE_TOKEN", "change-me")
