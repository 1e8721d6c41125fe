"""The live server for this lesson: daphne on a throwaway SQLite database that holds one user."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit.timing import scaled

from .live import log_in

LESSON = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "ada", "analytical-engine-1843"

# The daphne child process cannot see pytest-django's test database, so it gets its own file.
PREPARE_DATABASE = f"""
from django.contrib.auth.models import User
from django.core.management import call_command
call_command("migrate", verbosity=0)
User.objects.create_user({USERNAME!r}, password={PASSWORD!r})
"""


@pytest.fixture(scope="session")
def daphne_with_users(start_daphne, tmp_path_factory):
    database = tmp_path_factory.mktemp("live-db") / "db.sqlite3"
    env = {"DATABASE_PATH": str(database), "DJANGO_SETTINGS_MODULE": "consumersite.settings"}
    try:
        prepared = subprocess.run([sys.executable, "manage.py", "shell", "-c", PREPARE_DATABASE], cwd=LESSON,
                                  env={**os.environ, **env}, capture_output=True, text=True, timeout=scaled(60))
        problem = None if prepared.returncode == 0 else prepared.stderr
    except subprocess.TimeoutExpired:
        problem = f"manage.py migrate took longer than {scaled(60):.0f} s."
    if problem:
        pytest.fail(f"Could not prepare the live server's database:\n{problem}", pytrace=False)
    return start_daphne(env=env)


@pytest.fixture(scope="session")
def ada_cookie(daphne_with_users) -> str:
    """The Cookie header of a browser logged in as ada through the login page."""
    return log_in(daphne_with_users.http_url, USERNAME, PASSWORD)


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user(USERNAME, password=PASSWORD)


def session_header(client, user) -> tuple[bytes, bytes]:
    """The (b"cookie", ...) header of a browser session where `user` is logged in."""
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
def ada_session(client, ada) -> tuple[bytes, bytes]:
    return session_header(client, ada)


@pytest.fixture
def staff_session(client, django_user_model) -> tuple[bytes, bytes]:
    grace = django_user_model.objects.create_user("grace", password="cobol-1959", is_staff=True)
    return session_header(client, grace)


@pytest.fixture(autouse=True)
def consumers_may_check_old_connections(django_db_blocker):
    """Since channels 4.2 every consumer event runs close_old_connections() in a worker thread. Once a
    database test has opened a connection in that thread, the check asks the connection a question, and
    pytest-django would refuse it in the tests that use no database. The check changes no data."""
    with django_db_blocker.unblock():
        yield
