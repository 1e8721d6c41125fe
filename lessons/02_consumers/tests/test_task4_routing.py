"""Task 4: read the route's kwargs and the user from the scope (live/consumers/rooms.py),
through the whole stack of consumersite/asgi.py: origin check, then user, then routes."""

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.utils.module_loading import import_string

from consumersite.asgi import application
from live.routing import websocket_urlpatterns

from .live import real_socket, receive_real_json, refused_status
from .sockets import ORIGIN, crash_message, first_answer, leave, next_json, open_socket, refused_code, sentence

pytestmark = pytest.mark.task(4)

ANONYMOUS = ('An anonymous socket\'s user is None: check scope["user"].is_authenticated first (an '
             'AnonymousUser\'s username is "", and str() of it is "AnonymousUser").')
ORIGIN_CHECK = ("AllowedHostsOriginValidator, the outermost layer of the \"websocket\" stack in "
                "consumersite/asgi.py, refuses a socket whose Origin is missing or not in ALLOWED_HOSTS, "
                "before any consumer runs.")


async def welcome(path: str, *headers) -> dict:
    communicator = await open_socket(application, path, headers=(ORIGIN, *headers))
    message = await next_json(communicator, "RoomConsumer", "a welcome message")
    await leave(communicator, "RoomConsumer")
    return message


async def test_the_room_comes_from_the_url_route_kwargs():
    message = await welcome("/ws/rooms/lobby/")
    expected = {"type": "welcome", "room": "lobby", "seat": None, "user": None}
    assert message == expected, sentence(
        f"An anonymous socket on /ws/rooms/lobby/ should be welcomed with {expected}; got {message!r}",
        'The room is in self.scope["url_route"]["kwargs"]', ANONYMOUS if message.get("user") is not None else "")


async def test_a_path_converter_gives_the_seat_as_an_int():
    message = await welcome("/ws/rooms/kitchen/seats/7/")
    took_the_room_route = message.get("room") == "kitchen" and message.get("seat") is None
    assert message.get("room") == "kitchen" and message.get("seat") == 7, sentence(
        f"On /ws/rooms/kitchen/seats/7/ expected room 'kitchen' and seat 7 (a number: <int:seat>); got {message!r}",
        "The re_path route for ws/rooms/<room>/ caught this path: without `$` at its end, a regular "
        "expression matches any path that starts like it" if took_the_room_route else "")


@pytest.mark.django_db(transaction=True)
async def test_a_logged_in_user_is_in_the_scope(ada_session):
    message = await welcome("/ws/rooms/lobby/", ada_session)
    assert message.get("user") == "ada", (
        f'With ada\'s session cookie, scope["user"] is ada and the welcome should say "user": "ada"; got {message!r}.')


async def test_the_client_cannot_choose_who_it_is():
    message = await welcome("/ws/rooms/lobby/?user=ada&username=ada", (b"x-user", b"ada"))
    assert message.get("user") is None, (
        f"An anonymous socket that asks to be ada (?user=ada, a header) was welcomed as {message.get('user')!r}. "
        'The user comes from scope["user"], which AuthMiddlewareStack finds from the session cookie; never '
        "from what the client sends.")


UNROUTED = [
    pytest.param("caf%C3%A9", "`\\w` matches any Unicode letter (é, ß, 中), and lesson 03's group names allow "
                 "ASCII letters, digits, - and _ only: use [-a-zA-Z0-9_].", id="non-ascii"),
    pytest.param("a" * 31, "Room names are at most 30 characters: {1,30}, not +.", id="too-long"),
    pytest.param("lobby/extra", "A re_path pattern needs `$` at its end, or it matches every path that "
                 "starts like it.", id="trailing-parts"),
]


@pytest.mark.parametrize("room, why", UNROUTED)
async def test_a_room_name_the_route_does_not_match_reaches_no_consumer(room, why):
    path = f"/ws/rooms/{room}/"
    answer = await first_answer(application, path)
    if isinstance(answer, ValueError) and "No route found" in str(answer):
        return  # URLRouter refuses it; daphne then answers the handshake with an error
    if isinstance(answer, BaseException):
        pytest.fail(crash_message(answer, "the application", f"Expected URLRouter to find no route for {path}."),
                    pytrace=False)
    pytest.fail(f"The path {path} reached a consumer ({answer!r}); no route should match it. {why}", pytrace=False)


def test_every_route_builds_its_consumer_with_as_asgi():
    for route in websocket_urlpatterns:
        if isinstance(route.callback, type):
            name = route.callback.__name__
            pytest.fail(f"The route {str(route.pattern)!r} in live/routing.py gives URLRouter the class {name}; "
                        f"give it {name}.as_asgi(), the ASGI app that builds one consumer per connection.",
                        pytrace=False)


@pytest.mark.parametrize("origin", [(b"origin", b"http://evil.example"), None], ids=["foreign", "missing"])
async def test_a_foreign_or_missing_origin_is_refused_before_accept(origin):
    await refused_code(application, "/ws/rooms/lobby/", headers=[origin] if origin else [], hint=ORIGIN_CHECK)


def test_daphne_is_the_first_installed_app_so_runserver_speaks_asgi():
    assert settings.INSTALLED_APPS[0] == "daphne", (
        f'INSTALLED_APPS starts with {settings.INSTALLED_APPS[0]!r}: put "daphne" first, so that its runserver '
        "replaces Django's WSGI one.")
    assert get_commands()["runserver"] == "daphne", "manage.py runserver must be daphne's, not Django's WSGI one."


def test_asgi_application_names_the_websocket_stack():
    assert import_string(settings.ASGI_APPLICATION) is application, (
        f"ASGI_APPLICATION = {settings.ASGI_APPLICATION!r} must name consumersite.asgi.application.")


async def test_a_real_server_welcomes_anonymous_and_logged_in_sockets(daphne_with_users, ada_cookie):
    async with real_socket(daphne_with_users, "/ws/rooms/lobby/") as anonymous:
        message = await receive_real_json(anonymous, "a welcome")
    assert message.get("user") is None, f"An anonymous socket on the real server was welcomed with {message!r}."
    async with real_socket(daphne_with_users, "/ws/rooms/lobby/", cookie=ada_cookie) as logged_in:
        message = await receive_real_json(logged_in, "a welcome")
    assert message.get("user") == "ada", (
        f"A socket carrying the session cookie from logging in over HTTP should be ada's; got {message!r}.")


@pytest.mark.parametrize("origin", ["http://evil.example", None], ids=["foreign", "missing"])
async def test_a_real_server_refuses_a_foreign_or_missing_origin_with_403(daphne_with_users, origin):
    status = await refused_status(daphne_with_users, "/ws/rooms/lobby/", origin=origin, hint=ORIGIN_CHECK)
    assert status == 403, f"The server refused the Origin {origin!r} with HTTP {status}, expected 403."
