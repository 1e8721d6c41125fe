from django.urls import re_path

from .consumers import RoomConsumer

websocket_urlpatterns = [
    # Any slug reaches the consumer, which answers an unknown room with close code 4404.
    re_path(r"^ws/rooms/(?P<slug>[^/]+)/$", RoomConsumer.as_asgi()),
]
