"""Real servers for the live tests: a prepared SQLite file, logging in over HTTP, an outside WebSocket client.

Every wait is a deadline scaled by COURSE_TIME_SCALE: it ends as soon as the awaited thing happens, so a
generous one costs nothing on a fast machine and keeps a freshly started server on a busy one in time.
"""

import asyncio
import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from coursekit import servers
from coursekit.timing import scaled

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"
HTTP_WAIT = scaled(30)  # a page, a login, a WebSocket handshake: the first one warms up a fresh server
EVENT_WAIT = scaled(5)  # a frame that should come


def prepare_database(folder: Path, users=("ada", "bob"), rooms=("general",)) -> dict[str, str]:
    """A fresh database with some users and public rooms, migrated; the env that points a server at it.
    The suite's database decides which (pytest --database, or DATABASE_URL): a fresh PostgreSQL database
    on the same server, or an SQLite file in `folder`."""
    env = fresh_database(folder)
    in_database(env, "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
                     "from django.contrib.auth.models import User\nfrom rooms.models import Room\n"
                     f"users = [User.objects.create_user(name, password={PASSWORD!r}) for name in {list(users)!r}]\n"
                     f"[Room.objects.create(name=name, slug=name, created_by=users[0]) for name in {list(rooms)!r}]\n")
    return env


def in_database(env: dict[str, str], script: str) -> None:
    """Run `script` with the chat's models on the database `env` points at (a live server's env will do)."""
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=PROJECT,
                          env={**os.environ, **env}, capture_output=True, text=True)
    assert done.returncode == 0, f"The script on the live database failed:\n{done.stderr}"


def fresh_database(folder: Path) -> dict[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return {"DATABASE_URL": servers.create_database_beside(url, f"live_{uuid.uuid4().hex[:12]}")}
    return {"DATABASE_URL": "", "DATABASE_PATH": str(folder / "db.sqlite3")}


async def log_in(http_url: str, username: str, password: str = PASSWORD) -> str:
    """Log in through the login page as a browser would; return the Cookie header value.
    In a thread: a blocking HTTP call would stall the test's event loop (and the sockets it serves)."""
    return await asyncio.to_thread(log_in_now, http_url, username, password)


async def get_json(http_url: str, path: str, cookie: str) -> dict:
    return await asyncio.to_thread(get_json_now, http_url, path, cookie)


def log_in_now(http_url: str, username: str, password: str = PASSWORD) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{http_url}/accounts/login/"
    try:
        opener.open(url, timeout=HTTP_WAIT).read()
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
        opener.open(urllib.request.Request(url, data=form.encode(), headers={"Referer": url}),
                    timeout=HTTP_WAIT).read()
    except OSError as error:  # URLError, a refused connection, a timeout
        problem = error
    else:
        problem = None
    if problem is not None:
        pytest.fail(f"Logging in as {username} at {url} failed within {HTTP_WAIT:g} s: {problem}", pytrace=False)
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, f"logging in as {username} gave no session cookie"
    return f"sessionid={cookies['sessionid']}"


def get_json_now(http_url: str, path: str, cookie: str) -> dict:
    request = urllib.request.Request(http_url + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=HTTP_WAIT) as response:
        return json.loads(response.read())


class Client:
    """An outside WebSocket client that speaks the chat protocol (the `websockets` library, not our code)."""

    def __init__(self, server, cookie: str, room: str = "general"):
        self.server, self.cookie, self.room = server, cookie, room

    async def __aenter__(self):
        url = f"{self.server.ws_url}/ws/rooms/{self.room}/"
        try:
            self.socket = await connect(url, origin=self.server.origin, additional_headers={"Cookie": self.cookie},
                                        open_timeout=HTTP_WAIT)
        except TimeoutError:
            self.socket = None
        if self.socket is None:
            pytest.fail(f"The WebSocket handshake with {url} did not finish within {HTTP_WAIT:g} s.", pytrace=False)
        self.welcome = await self.next("welcome")
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()

    async def send(self, frame: dict) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, frame_type: str, timeout: float = EVENT_WAIT) -> dict:
        """The next frame of `frame_type`, skipping the others."""
        return (await self.frames_until(frame_type, timeout))[-1]

    async def frames_until(self, frame_type: str, timeout: float = EVENT_WAIT) -> list[dict]:
        """Every frame up to and including the next one of `frame_type`."""
        deadline = asyncio.get_running_loop().time() + timeout
        frames = []
        while not frames or frames[-1]["type"] != frame_type:
            frame = await self.receive_before(deadline)
            if isinstance(frame, str):
                pytest.fail(f"Expected a {frame_type!r} frame within {timeout:g} s, but {frame}; got only "
                            f"{[f['type'] for f in frames] or 'nothing'}.", pytrace=False)
            frames.append(frame)
        return frames

    async def presence_becomes(self, online: list[str], timeout: float = EVENT_WAIT) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        seen = []
        while seen[-1:] != [online]:
            frame = await self.receive_before(deadline)
            if isinstance(frame, str):
                pytest.fail(f"The presence list never became {online} within {timeout:g} s ({frame}); it was "
                            f"{seen or 'never sent'}.", pytrace=False)
            if frame["type"] == "presence":
                seen.append(frame["online"])

    async def receive_before(self, deadline: float) -> dict | str:
        """The next frame, or why none came before `deadline` (the event loop's clock)."""
        try:
            left = max(0.01, deadline - asyncio.get_running_loop().time())
            return json.loads(await asyncio.wait_for(self.socket.recv(), left))
        except TimeoutError:
            return "nothing more arrived"
        except ConnectionClosed as closed:
            return f"the server closed the socket (code {closed.rcvd.code if closed.rcvd else 'none'})"
