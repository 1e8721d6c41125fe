"""Fixtures for the chat's tests: users, rooms, logged-in sessions, the channel layer per test."""

import pytest
import redis
from django.test import Client

from chat_site import layers
from rooms.models import Room

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def consumers_may_check_old_connections(django_db_blocker):
    """Since channels 4.2 every consumer event runs close_old_connections() in a worker thread; without
    this, pytest-django refuses that check in tests that use no database. It changes no data."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session", autouse=True)
def database_pools_closed_before_teardown(django_db_setup, django_db_blocker):
    """On PostgreSQL the chat keeps a pool of open connections (chat_site/databases.py): close it before
    pytest-django drops the test database, which it cannot do while a connection is open."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "pool", None):
                connection.close_pool()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """A real hasher costs ~0.3 s per user; these tests check the chat, not password storage."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(params=["memory", "redis", "pubsub"])
def layer(request, settings):
    """Run the test on the in-memory layer and presence, then on each Redis layer: msgpack must accept
    every event."""
    settings.CHAT_RATE_LIMIT = (10, 10.0)
    url = ""
    if request.param != "memory":
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
    use_layer(settings, request.param, url)
    return request.param


def use_layer(settings, name: str, url: str) -> None:
    """The project's own layer configuration (chat_site/layers.py) on `url`, presence there too."""
    settings.REDIS_URL = url
    settings.CHANNEL_LAYERS = {"default": layers.channel_layer(name, url, pool_size=50)}


@pytest.fixture
def make_user(django_user_model):
    def make(username):
        return django_user_model.objects.create_user(username, password=PASSWORD)
    return make


@pytest.fixture
def ada(make_user):
    return make_user("ada")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def general(ada):
    return Room.objects.create(name="general", slug="general", created_by=ada)


@pytest.fixture
def secret(ada):
    return Room.objects.create(name="secret", slug="secret", created_by=ada, is_private=True)


def cookie_for(user) -> tuple[bytes, bytes]:
    """The Cookie header of a browser where `user` is logged in."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture(scope="session")
def memory_server(start_daphne, tmp_path_factory):
    """One daphne process on the in-memory layer and a database of its own (users ada, bob; room general)."""
    from .live import prepare_database

    env = prepare_database(tmp_path_factory.mktemp("memory-db"))
    return start_daphne(env=env)


# Lines a server writes only when something went wrong inside it (daphne logs an app's exception as
# "Exception inside application" at ERROR level, with a traceback).
TROUBLE = ("ERROR", "Traceback", "Exception inside application")


def pytest_configure(config):
    config.addinivalue_line("markers", "expected_server_errors(*patterns): ERROR lines containing one of these "
                            "are what the test provokes on purpose (never by a client's behaviour)")


@pytest.fixture(autouse=True)
def servers_log_no_errors(request):
    """Every live server a test talks to must log no ERROR and no traceback while it runs: no client
    behaviour may put one there."""
    from coursekit import servers

    marker = request.node.get_closest_marker("expected_server_errors")
    expected = marker.args if marker else ()
    offsets = {id(server): server.log_size() for server in servers.RUNNING}
    yield
    for server in list(servers.RUNNING):
        lines = server.log_since(offsets.get(id(server), server.started_at_log_size)).splitlines()
        trouble = [line for line in lines if any(word in line for word in TROUBLE)
                   and not any(pattern in line for pattern in expected)]
        if trouble:
            pytest.fail(f"The server on port {server.port} logged {len(trouble)} ERROR or traceback line(s) during "
                        "this test; the first: " + " | ".join(trouble[:3]), pytrace=False)
