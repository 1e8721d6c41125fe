"""Task 4: read the route's kwargs and the user from the scope (live/consumers/rooms.py),
through the whole stack of consumersite/asgi.py: origin check, then user, then routes."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import get_commands
from django.utils.module_loading import import_string
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from consumersite.asgi import application

from .sockets import ORIGIN, next_json, open_socket, refused_code

pytestmark = pytest.mark.task(4)


async def welcome(path: str, *headers) -> dict:
    communicator = await open_socket(application, path, headers=(ORIGIN, *headers))
    message = await next_json(communicator, "RoomConsumer", "a welcome message")
    await communicator.disconnect()
    return message


async def test_the_room_comes_from_the_url_route_kwargs():
    message = await welcome("/ws/rooms/lobby/")
    expected = {"type": "welcome", "room": "lobby", "seat": None, "user": None}
    assert message == expected, (
        f"An anonymous socket on /ws/rooms/lobby/ should be welcomed with {expected}; got {message!r}. "
        'The room is in self.scope["url_route"]["kwargs"].')


async def test_a_path_converter_gives_the_seat_as_an_int():
    message = await welcome("/ws/rooms/kitchen/seats/7/")
    assert message.get("room") == "kitchen" and message.get("seat") == 7, (
        f"On /ws/rooms/kitchen/seats/7/ expected room 'kitchen' and seat 7 (a number: <int:seat>); got {message!r}.")


@pytest.mark.django_db(transaction=True)
async def test_a_logged_in_user_is_in_the_scope(ada_session):
    message = await welcome("/ws/rooms/lobby/", ada_session)
    assert message.get("user") == "ada", (
        f'With ada\'s session cookie, scope["user"] is ada and the welcome should say "user": "ada"; got {message!r}.')


async def test_a_room_name_the_route_does_not_match_reaches_no_consumer():
    # re_path allows ASCII only: "café" matches no route, and URLRouter raises instead of routing it.
    communicator = WebsocketCommunicator(application, "/ws/rooms/caf%C3%A9/", headers=[ORIGIN])
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect(timeout=0.2)


@pytest.mark.parametrize("origin", [(b"origin", b"http://evil.example"), None], ids=["foreign", "missing"])
async def test_a_foreign_or_missing_origin_is_refused_before_accept(origin):
    await refused_code(application, "/ws/rooms/lobby/", headers=[origin] if origin else [])


def test_daphne_is_the_first_installed_app_so_runserver_speaks_asgi():
    assert settings.INSTALLED_APPS[0] == "daphne"
    assert get_commands()["runserver"] == "daphne", "manage.py runserver must be daphne's, not Django's WSGI one."


def test_asgi_application_names_the_websocket_stack():
    assert import_string(settings.ASGI_APPLICATION) is application


async def test_a_real_server_welcomes_anonymous_and_logged_in_sockets(daphne_with_users, ada_cookie):
    url = f"{daphne_with_users.ws_url}/ws/rooms/lobby/"
    async with connect(url, origin=daphne_with_users.origin, open_timeout=5) as anonymous:
        assert json.loads(await asyncio.wait_for(anonymous.recv(), 5)).get("user") is None
    async with connect(url, origin=daphne_with_users.origin, additional_headers={"Cookie": ada_cookie},
                       open_timeout=5) as logged_in:
        message = json.loads(await asyncio.wait_for(logged_in.recv(), 5))
    assert message.get("user") == "ada", (
        f"A socket carrying the session cookie from logging in over HTTP should be ada's; got {message!r}.")


@pytest.mark.parametrize("origin", ["http://evil.example", None], ids=["foreign", "missing"])
async def test_a_real_server_refuses_a_foreign_or_missing_origin_with_403(daphne_with_users, origin):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_with_users.ws_url}/ws/rooms/lobby/", origin=origin, open_timeout=5):
            pass
    assert refused.value.response.status_code == 403
