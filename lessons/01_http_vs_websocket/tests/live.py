"""A WebSocket client for the lesson served by a real daphne: deadlines on every wait, verdicts in words."""

import asyncio
import contextlib

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from coursekit.timing import scaled


@contextlib.asynccontextmanager
async def live_socket(url: str):
    """An open client socket to `url`, or a failure that says why daphne did not let it open."""
    problem = None
    try:
        # proxy=None: a proxy from the environment must not stand between the test and 127.0.0.1.
        socket = await connect(url, open_timeout=scaled(20), close_timeout=scaled(1), proxy=None)
    except (OSError, TimeoutError, InvalidHandshake) as error:
        problem = error
    if problem is not None:
        pytest.fail(f"Could not open {url} on a real daphne: {type(problem).__name__}: {problem}", pytrace=False)
    try:
        yield socket
    finally:
        await socket.close()


async def live_receive(socket: ClientConnection, expected: str) -> str | bytes:
    """The next message from the server, or a failure naming what was `expected`."""
    seconds = scaled(5)
    try:
        return await asyncio.wait_for(socket.recv(), seconds)
    except TimeoutError:
        problem = f"nothing came within {seconds:.0f} s"
    except ConnectionClosed as closed:
        problem = f"the server closed the socket (code {closed.rcvd.code if closed.rcvd else 'none'})"
    pytest.fail(f"Expected {expected} from {socket.request.path} on a real daphne, but {problem}.", pytrace=False)
