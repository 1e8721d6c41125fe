"""Development settings: what `manage.py` (and so `make run`) uses. Never deploy these.

They only fill in what the environment leaves unset: a throwaway SECRET_KEY and DEBUG on (which also
makes daphne serve the static files). Everything else is chat_site/settings.py.
"""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-not-a-secret-never-deploy")
os.environ.setdefault("DEBUG", "1")

from chat_site.settings import *  # noqa: E402,F401,F403
