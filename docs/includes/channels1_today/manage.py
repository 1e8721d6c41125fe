#!/usr/bin/env python
"""Run from docs/includes: `python channels1_today/manage.py runworker chat-messages` (with REDIS_URL)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels1_today.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
