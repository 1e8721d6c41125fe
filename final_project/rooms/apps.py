from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"

    def ready(self):
        from . import sessions  # noqa: F401  (connects the logout signal)
