"""The ASGI application: HTTP to Django, WebSocket to consumers, named channels to workers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels1_today.settings")
django_asgi_app = get_asgi_application()  # sets Django up: import consumers and models after it

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from .routing import websocket_urlpatterns  # noqa: E402
from .workers import ChatMessageWorker, SyncChatMessageWorker  # noqa: E402

# --8<-- [start:application]
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        # What `manage.py runworker chat-messages` runs: consumers of named channels, sync or async.
        "channel": ChannelNameRouter(
            {
                "chat-messages": ChatMessageWorker.as_asgi(),
                "chat-messages-sync": SyncChatMessageWorker.as_asgi(),
            }
        ),
    }
)
# --8<-- [end:application]
