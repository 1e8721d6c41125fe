"""Task 5: accept, reject and close: a members-only socket (live/consumers/members.py)."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from consumersite.asgi import application
from live.consumers.members import NOT_LOGGED_IN

from .sockets import ORIGIN, next_event, next_json, open_socket, refused_code

pytestmark = pytest.mark.task(5)


async def test_an_anonymous_socket_is_told_why_then_closed_with_4401():
    communicator = await open_socket(application, "/ws/members/")
    message = await next_json(communicator, "MembersConsumer", "an error message before the close")
    assert message.get("type") == "error" and message.get("code") == "not_logged_in", (
        f"Before closing, tell the client why: {{'type': 'error', 'code': 'not_logged_in', ...}}; got {message!r}.")
    close = await next_event(communicator, "MembersConsumer", "a close with code 4401")
    assert close.get("type") == "websocket.close" and close.get("code") == NOT_LOGGED_IN, (
        f"Expected the socket to be closed with code {NOT_LOGGED_IN}; got {close!r}.")
    assert close.get("reason"), "Give the close a reason too: self.close(code=..., reason=...)."


@pytest.mark.django_db(transaction=True)
async def test_a_logged_in_member_is_greeted_by_name(ada_session):
    communicator = await open_socket(application, "/ws/members/", headers=(ORIGIN, ada_session))
    message = await next_json(communicator, "MembersConsumer", "a hello message")
    assert message == {"type": "hello", "user": "ada", "staff": False}, (
        f"Expected {{'type': 'hello', 'user': 'ada', 'staff': False}}; got {message!r}.")
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_staff_route_denies_a_member_who_is_not_staff(ada_session):
    await refused_code(application, "/ws/staff/", headers=(ORIGIN, ada_session))


async def test_the_staff_route_denies_an_anonymous_socket():
    await refused_code(application, "/ws/staff/")


@pytest.mark.django_db(transaction=True)
async def test_the_staff_route_accepts_staff(staff_session):
    communicator = await open_socket(application, "/ws/staff/", headers=(ORIGIN, staff_session))
    message = await next_json(communicator, "MembersConsumer", "a hello message")
    assert message == {"type": "hello", "user": "grace", "staff": True}, f"Got {message!r}."
    await communicator.disconnect()


async def test_a_real_client_sees_the_4401_close_code(daphne_with_users):
    async with connect(f"{daphne_with_users.ws_url}/ws/members/", origin=daphne_with_users.origin,
                       open_timeout=5) as socket:
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 5)
    assert message.get("code") == "not_logged_in"
    # daphne 4.2 sends the code but drops the reason: the JSON message above is what tells the user why.
    assert socket.close_code == NOT_LOGGED_IN, f"The client saw close code {socket.close_code}, expected 4401."


async def test_a_real_client_logged_in_over_http_is_a_member(daphne_with_users, ada_cookie):
    async with connect(f"{daphne_with_users.ws_url}/ws/members/", origin=daphne_with_users.origin,
                       additional_headers={"Cookie": ada_cookie}, open_timeout=5) as socket:
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert message == {"type": "hello", "user": "ada", "staff": False}, f"Got {message!r}."


async def test_a_real_client_denied_by_deny_connection_gets_403(daphne_with_users, ada_cookie):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_with_users.ws_url}/ws/staff/", origin=daphne_with_users.origin,
                           additional_headers={"Cookie": ada_cookie}, open_timeout=5):
            pass
    assert refused.value.response.status_code == 403, "DenyConnection refuses the handshake: HTTP 403."
