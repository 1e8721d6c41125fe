"""ASGI entry point: HTTP goes to Django, WebSocket goes to our hand-written apps."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clocksite.settings")

# Set Django up before importing anything that may touch settings, apps or models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from realtime.blocking_clock import blocking_clock_app  # noqa: E402
from realtime.clock import clock_app  # noqa: E402
from realtime.echo import echo_app  # noqa: E402

websocket_routes = [
    path("ws/echo/", echo_app),
    path("ws/clock/", clock_app),
    # The old tutorials' clock, kept to show what goes wrong: opening it freezes this server.
    path("ws/blocking-clock/", blocking_clock_app),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_routes),
    }
)
