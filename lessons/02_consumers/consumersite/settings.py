"""Settings for lesson 02: consumers, routing, users and origins."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A lesson project, never deployed: a fixed key and DEBUG on keep it runnable with no set-up.
SECRET_KEY = "lesson-02-not-a-secret"
DEBUG = True
# AllowedHostsOriginValidator reads this list too: a socket's Origin must name one of these hosts.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # daphne first: its `runserver` replaces Django's, so `manage.py runserver` speaks ASGI.
    # Put it lower and runserver is Django's WSGI server again: every socket gets a 404.
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "consumersite.urls"
# What daphne's runserver serves. Without it, runserver cannot find the WebSocket routes.
ASGI_APPLICATION = "consumersite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

# Users and sessions live in SQLite. The live-server tests point DATABASE_PATH at a throwaway file.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DATABASE_PATH", BASE_DIR / "db.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

STATIC_URL = "static/"
USE_TZ = True
TIME_ZONE = "UTC"

# Seconds between two clock ticks. The tests shorten it through the environment.
CLOCK_INTERVAL_SECONDS = float(os.environ.get("CLOCK_INTERVAL_SECONDS", "1"))
