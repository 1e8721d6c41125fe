"""Ordinary clients of the real daphne server (the websockets library, plain HTTP), failing in words."""

import asyncio
import json
import urllib.error
import urllib.request
from contextlib import asynccontextmanager

import pytest
from coursekit.servers import DaphneServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .deadlines import ANSWER, ARRIVE


@asynccontextmanager
async def real_socket(server: DaphneServer, path: str):
    """An open socket to `path` on the real server, closed after the block."""
    try:
        socket = await connect(f"{server.ws_url}{path}", origin=server.origin, open_timeout=ANSWER)
    except Exception as error:  # refused, timed out, or the server answered the handshake with an error
        problem = f"A WebSocket client could not open {path} on the real server: {type(error).__name__}: {error}"
    else:
        problem = None
    if problem:
        pytest.fail(problem, pytrace=False)
    async with socket:
        yield socket


async def next_real_frame(socket: ClientConnection, expected: str) -> dict:
    try:
        text = await asyncio.wait_for(socket.recv(), ARRIVE)
    except TimeoutError:
        problem = f"Expected {expected} within {ARRIVE:g} s, but nothing arrived."
    except ConnectionClosed:
        problem = f"Expected {expected}, but the server closed the socket (code {socket.close_code})."
        if socket.close_code == 1011:
            problem += " Code 1011 means the consumer raised an exception; the tests that drive it directly name it."
    else:
        return json.loads(text)
    pytest.fail(problem, pytrace=False)


async def real_close_code(socket: ClientConnection, expected: str) -> int | None:
    """The code the server closes the socket with; a failure if a frame comes or nothing happens."""
    try:
        text = await asyncio.wait_for(socket.recv(), ARRIVE)
    except ConnectionClosed:
        return socket.close_code
    except TimeoutError:
        problem = f"Expected {expected} within {ARRIVE:g} s, but the socket stayed open."
    else:
        problem = f"Expected {expected}, but the client got the frame {text!r}."
    pytest.fail(problem, pytrace=False)


def post_json(url: str, body: dict, token: str) -> int:
    """POST `body` as JSON with a bearer token; the answer's status code."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=ANSWER) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
