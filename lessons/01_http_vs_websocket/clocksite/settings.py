"""Settings for lesson 01: the smallest Django project that speaks both HTTP and WebSocket."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A lesson project, never deployed: a fixed key and DEBUG on keep it runnable with no set-up.
SECRET_KEY = "lesson-01-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # daphne first: its `runserver` replaces Django's, so `manage.py runserver` speaks ASGI.
    "daphne",
    "django.contrib.staticfiles",
    "clock",
]

ROOT_URLCONF = "clocksite.urls"
WSGI_APPLICATION = "clocksite.wsgi.application"
ASGI_APPLICATION = "clocksite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

# This lesson stores nothing, so it needs no database.
DATABASES = {}

STATIC_URL = "static/"
USE_TZ = True
TIME_ZONE = "UTC"

# Seconds between two clock ticks. The tests shorten it through the environment.
CLOCK_INTERVAL_SECONDS = float(os.environ.get("CLOCK_INTERVAL_SECONDS", "1"))
