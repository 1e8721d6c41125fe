"""Task 5: accept, reject and close: a members-only socket (live/consumers/members.py)."""

import pytest

from consumersite.asgi import application
from live.consumers.members import NOT_LOGGED_IN

from .live import closed_code, real_socket, receive_real_json, refused_status
from .sockets import ORIGIN, leave, next_event, next_json, nothing_more, open_socket, refused_code

pytestmark = pytest.mark.task(5)

DENY = ("On the staff route, refuse a user who is not staff during the handshake: raise DenyConnection "
        "in connect(), before any accept(). The client then gets HTTP 403 and never an open socket.")
CLOSE_4401 = "Close with the application's own code: await self.close(code=NOT_LOGGED_IN, reason=...)."


async def test_an_anonymous_socket_is_told_why_then_closed_with_4401():
    communicator = await open_socket(application, "/ws/members/",
                                     hint="An anonymous socket is accepted first: only an open socket can carry a "
                                          "close code and a message.")
    message = await next_json(communicator, "MembersConsumer", "an error message before the close")
    assert message.get("type") == "error" and message.get("code") == "not_logged_in", (
        f"Before closing, tell the client why: {{'type': 'error', 'code': 'not_logged_in', ...}}; got {message!r}.")
    close = await next_event(communicator, "MembersConsumer", f"a close with code {NOT_LOGGED_IN}", hint=CLOSE_4401)
    assert close.get("type") == "websocket.close" and close.get("code") == NOT_LOGGED_IN, (
        f"Expected the socket to be closed with code {NOT_LOGGED_IN}; got {close!r}. {CLOSE_4401}")
    assert close.get("reason"), "Give the close a reason too: self.close(code=..., reason=...)."
    await nothing_more(communicator, "MembersConsumer", "closing the socket",
                       hint="Return from connect() right after close(): the socket is finished.")


@pytest.mark.django_db(transaction=True)
async def test_a_logged_in_member_is_greeted_by_name(ada_session):
    communicator = await open_socket(application, "/ws/members/", headers=(ORIGIN, ada_session),
                                     hint="Only the staff route (self.staff_only) refuses users who are not staff.")
    message = await next_json(communicator, "MembersConsumer", "a hello message")
    assert message == {"type": "hello", "user": "ada", "staff": False}, (
        f"Expected {{'type': 'hello', 'user': 'ada', 'staff': False}}; got {message!r}.")
    await leave(communicator, "MembersConsumer")


@pytest.mark.django_db(transaction=True)
async def test_the_staff_route_denies_a_member_who_is_not_staff(ada_session):
    await refused_code(application, "/ws/staff/", headers=(ORIGIN, ada_session), hint=DENY)


async def test_the_staff_route_denies_an_anonymous_socket():
    await refused_code(application, "/ws/staff/", hint=DENY + " Check the staff route before the login.")


@pytest.mark.django_db(transaction=True)
async def test_the_staff_route_accepts_staff(staff_session):
    communicator = await open_socket(application, "/ws/staff/", headers=(ORIGIN, staff_session))
    message = await next_json(communicator, "MembersConsumer", "a hello message")
    assert message == {"type": "hello", "user": "grace", "staff": True}, (
        f"Expected {{'type': 'hello', 'user': 'grace', 'staff': True}}; got {message!r}.")
    await leave(communicator, "MembersConsumer")


async def test_a_real_client_sees_the_4401_close_code(daphne_with_users):
    async with real_socket(daphne_with_users, "/ws/members/") as socket:
        message = await receive_real_json(socket, "the not_logged_in error")
        code = await closed_code(socket, "the not_logged_in error")
    assert message.get("code") == "not_logged_in", f"Expected the not_logged_in error first; got {message!r}."
    # daphne 4.2 sends the code but drops the reason: the JSON message above is what tells the user why.
    assert code == NOT_LOGGED_IN, f"The client saw close code {code}, expected {NOT_LOGGED_IN}. {CLOSE_4401}"


async def test_a_real_client_logged_in_over_http_is_a_member(daphne_with_users, ada_cookie):
    async with real_socket(daphne_with_users, "/ws/members/", cookie=ada_cookie) as socket:
        message = await receive_real_json(socket, "a hello")
    assert message == {"type": "hello", "user": "ada", "staff": False}, f"Got {message!r}."


async def test_a_real_client_denied_by_deny_connection_gets_403(daphne_with_users, ada_cookie):
    status = await refused_status(daphne_with_users, "/ws/staff/", cookie=ada_cookie, hint=DENY)
    assert status == 403, f"The staff route refused ada with HTTP {status}; DenyConnection gives 403."
