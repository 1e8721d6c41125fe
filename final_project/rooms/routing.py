from django.urls import re_path

from .consumers import NoSuchPath, RoomConsumer

websocket_urlpatterns = [
    # Any slug reaches the consumer, which answers an unknown room with close code 4404.
    re_path(r"^ws/rooms/(?P<slug>[^/]+)/$", RoomConsumer.as_asgi()),
    # Any other path gets the same 4404, not URLRouter's "No route found" (an HTTP 500 and a traceback).
    re_path(r"", NoSuchPath.as_asgi()),
]
