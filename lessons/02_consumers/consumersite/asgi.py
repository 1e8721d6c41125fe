"""ASGI entry point: HTTP goes to Django's views, WebSocket goes through three layers to a consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consumersite.settings")

# Set Django up first: the routing imports the consumers, and a consumer that uses the ORM imports
# models, which raise AppRegistryNotReady before Django is set up.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from live.routing import websocket_urlpatterns  # noqa: E402

# --8<-- [start:application]
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Outermost first: refuse a foreign or missing Origin, then find the user from the
        # session cookie (scope["user"]), then pick a consumer by path.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
# --8<-- [end:application]
