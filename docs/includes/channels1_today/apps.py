from django.apps import AppConfig


class Channels1TodayConfig(AppConfig):
    name = "channels1_today"

    def ready(self):
        from . import signals  # noqa: F401  (connects the post_save receiver)
