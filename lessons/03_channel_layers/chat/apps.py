from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        # Connects the post_save receiver; importing the module is enough.
        from . import signals  # noqa: F401
