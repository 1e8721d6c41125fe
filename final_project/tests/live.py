"""Real servers for the live tests: a prepared SQLite file, logging in over HTTP, an outside WebSocket client."""

import asyncio
import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"


def prepare_database(path: Path, users=("ada", "bob"), rooms=("general",)) -> dict[str, str]:
    """Migrate a fresh SQLite file with some users and public rooms; the env that points a server at it."""
    env = {"DATABASE_PATH": str(path)}
    script = ("from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
              "from django.contrib.auth.models import User\nfrom rooms.models import Room\n"
              f"users = [User.objects.create_user(name, password={PASSWORD!r}) for name in {list(users)!r}]\n"
              f"[Room.objects.create(name=name, slug=name, created_by=users[0]) for name in {list(rooms)!r}]\n")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=PROJECT,
                          env={**os.environ, **env}, capture_output=True, text=True)
    assert done.returncode == 0, f"Could not prepare the live database:\n{done.stderr}"
    return env


def log_in(http_url: str, username: str, password: str = PASSWORD) -> str:
    """Log in through the login page as a browser would; return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{http_url}/accounts/login/"
    opener.open(url, timeout=5).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
    opener.open(urllib.request.Request(url, data=form.encode(), headers={"Referer": url}), timeout=5).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, f"logging in as {username} gave no session cookie"
    return f"sessionid={cookies['sessionid']}"


def get_json(http_url: str, path: str, cookie: str) -> dict:
    request = urllib.request.Request(http_url + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


class Client:
    """An outside WebSocket client that speaks the chat protocol (the `websockets` library, not our code)."""

    def __init__(self, server, cookie: str, room: str = "general"):
        self.server, self.cookie, self.room = server, cookie, room

    async def __aenter__(self):
        self.socket = await connect(f"{self.server.ws_url}/ws/rooms/{self.room}/", origin=self.server.origin,
                                    additional_headers={"Cookie": self.cookie}, open_timeout=5)
        self.welcome = await self.next("welcome")
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()

    async def send(self, frame: dict) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, frame_type: str, timeout: float = 5) -> dict:
        """The next frame of `frame_type`, skipping the others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                frame = json.loads(await asyncio.wait_for(self.socket.recv(), max(0.01, deadline - loop.time())))
            except TimeoutError:
                pytest.fail(f"expected a {frame_type!r} frame within {timeout} s", pytrace=False)
            if frame["type"] == frame_type:
                return frame

    async def frames_until(self, frame_type: str, timeout: float = 5) -> list[dict]:
        """Every frame up to and including the next one of `frame_type`."""
        frames = []
        while not frames or frames[-1]["type"] != frame_type:
            frames.append(json.loads(await asyncio.wait_for(self.socket.recv(), timeout)))
        return frames

    async def presence_becomes(self, online: list[str], timeout: float = 5) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = []
        while seen[-1:] != [online]:
            if loop.time() > deadline:
                pytest.fail(f"presence never became {online}; saw {seen}", pytrace=False)
            seen.append((await self.next("presence", max(0.01, deadline - loop.time())))["online"])
