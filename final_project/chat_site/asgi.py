"""ASGI entry point: HTTP to Django's views, WebSocket through the origin check and the session to a consumer.

Servers import this module (`daphne chat_site.asgi:application`); its default settings are the strict
production ones.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_site.settings")

# Set Django up before importing routing: the consumers import models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from rooms.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # What `runserver` does: serve the static files in development. In production the proxy does.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

# --8<-- [start:application]
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Outermost first: refuse a foreign or missing Origin, then find the user from the session
        # cookie (scope["user"]), then pick the consumer by path.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
# --8<-- [end:application]
