"""Which consumer serves which WebSocket path. asgi.py hands this list to URLRouter."""

from django.urls import path, re_path

from .consumers.clock import ClockConsumer
from .consumers.commands import CommandConsumer
from .consumers.echo import EchoConsumer
from .consumers.members import MembersConsumer
from .consumers.rooms import RoomConsumer

websocket_urlpatterns = [
    # as_asgi() makes a small ASGI app that builds a new consumer for every connection.
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("ws/clock/", ClockConsumer.as_asgi()),
    path("ws/commands/", CommandConsumer.as_asgi()),
    # re_path: a regular expression, for rules a converter cannot say (here: at most 30
    # characters). Named groups arrive as strings in scope["url_route"]["kwargs"].
    re_path(r"^ws/rooms/(?P<room>[-a-zA-Z0-9_]{1,30})/$", RoomConsumer.as_asgi()),
    # path converters: <slug:room> is ASCII letters, digits, - and _ (any length);
    # <int:seat> arrives as an int, already checked.
    path("ws/rooms/<slug:room>/seats/<int:seat>/", RoomConsumer.as_asgi()),
    path("ws/members/", MembersConsumer.as_asgi()),
    # as_asgi(**initkwargs) passes these to the __init__ of each consumer it builds.
    path("ws/staff/", MembersConsumer.as_asgi(staff_only=True)),
]
