"""WebSocket routes.

The room name is captured loosely (anything but a slash) and checked by the consumer, which can
answer with a clear refusal. The tutorial's `(?P<room_name>\\w+)` is no safer than it looks: in
Python `\\w` matches "é", so "café" gets through and then `group_add` raises TypeError.
"""

from django.urls import re_path

from .consumers import ChatConsumer

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room_name>[^/]+)/$", ChatConsumer.as_asgi()),
]
