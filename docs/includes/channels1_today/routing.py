"""Which consumer serves which WebSocket path (Channels 1 routed each event type instead)."""

from django.urls import path, re_path

from . import consumers

# --8<-- [start:websocket_urlpatterns]
websocket_urlpatterns = [
    path("echo/", consumers.EchoConsumer.as_asgi()),
    path("chat/", consumers.ChatConsumer.as_asgi()),
    re_path(r"^rooms/(?P<room>[a-zA-Z0-9_]{1,30})/$", consumers.RoomConsumer.as_asgi()),
    re_path(r"^queued/(?P<room>[a-zA-Z0-9_]{1,30})/$", consumers.QueuedRoomConsumer.as_asgi()),
    path("initials/", consumers.InitialChatConsumer.as_asgi()),
    path("counting/", consumers.CountingChatConsumer.as_asgi()),
    path("streams/", consumers.StreamsConsumer.as_asgi()),
]
# --8<-- [end:websocket_urlpatterns]
