"""WSGI entry point: one call per request, one response, then the connection is done.

Kept for comparison with asgi.py; this lesson is served by daphne through asgi.py.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clocksite.settings")

application = get_wsgi_application()
