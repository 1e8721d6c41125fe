from django.urls import re_path

from chat.consumers import ChatConsumer

# Room names become group names, which allow only ASCII letters, digits, "-", "_" and ".".
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>[A-Za-z0-9_-]{1,50})/$", ChatConsumer.as_asgi()),
]
