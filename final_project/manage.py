#!/usr/bin/env python
"""Django's command-line tool for the chat. It defaults to the development settings (see chat_site/dev_settings.py)."""

import os
import sys


def main():
    # manage.py is the developer's tool: it runs with dev_settings unless told otherwise.
    # Production servers import chat_site.asgi, whose default is the strict chat_site.settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_site.dev_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
