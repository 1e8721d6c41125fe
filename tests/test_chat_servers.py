"""`make chat-servers` (final_project/run_servers.py): the chat on PostgreSQL, Redis and two daphne processes."""

import asyncio
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from coursekit import servers
from coursekit.timing import scaled

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "final_project"
RUN_SERVERS = CHAT / "run_servers.py"
PASSWORD = "correct-horse-battery-9"
STARTUP = scaled(120)  # PostgreSQL's initdb, migrate, two daphne processes, on a busy machine
STOP = scaled(30)
HTTP_WAIT = scaled(30)
EVENT_WAIT = scaled(5)


@pytest.fixture
def data_dir():
    # PostgreSQL runs as an unprivileged user when we are root: it must be able to pass through the folder.
    folder = Path(tempfile.mkdtemp(prefix="chat-servers-"))
    folder.chmod(0o711)
    yield folder / "postgres"
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def environment() -> dict[str, str]:
    """Our own PostgreSQL and Redis, unless only a running PostgreSQL is available (DATABASE_URL)."""
    env = {name: value for name, value in os.environ.items() if name not in {"REDIS_URL", "DATABASE_URL"}}
    if servers.find_postgres() is None:
        if not os.environ.get("DATABASE_URL", "").startswith(servers.POSTGRES_SCHEMES):
            pytest.fail(servers.postgres_missing(), pytrace=False)
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env


class Running:
    """run_servers.py in a child process (its own process group, as in a terminal), output in a file."""

    def __init__(self, ports: list[int], data_dir: Path, output: Path):
        self.ports, self.output = ports, output
        with output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(RUN_SERVERS), "--ports", ",".join(map(str, ports)), "--data-dir", str(data_dir)],
                stdout=out, stderr=subprocess.STDOUT, env=environment(), start_new_session=True)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for_servers(self) -> None:
        deadline = time.monotonic() + STARTUP
        while not all(servers.port_is_open(port) for port in self.ports):
            if self.process.poll() is not None:
                pytest.fail(f"run_servers.py exited with {self.process.returncode} before both servers "
                            f"listened:\n{self.text()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"Ports {self.ports} were not both open within {STARTUP:g} s:\n{self.text()}",
                            pytrace=False)
            time.sleep(0.1)

    def group_alive(self) -> bool:
        """Whether any process is left in its group: the servers it started, and theirs, are all in it."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def server_ports(self) -> list[int]:
        """The ports of PostgreSQL and Redis, read from what it printed (their URLs), and the two daphnes'."""
        found = re.findall(r"^(?:PostgreSQL|Redis): \S+://\S*?:(\d+)/", self.text(), flags=re.MULTILINE)
        return [int(port) for port in found] + self.ports

    def stop(self, signum: int, whole_group: bool) -> int:
        """Ctrl-C in a terminal signals the whole foreground group; `kill` only the one process."""
        if whole_group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            return self.process.wait(STOP)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"run_servers.py did not stop within {STOP:g} s of the signal:\n{self.text()}", pytrace=False)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def run(tmp_path):
    started: list[Running] = []

    def start(data_dir: Path) -> Running:
        running = Running([servers.free_port(), servers.free_port()], data_dir, tmp_path / f"run-{len(started)}.txt")
        started.append(running)
        running.wait_for_servers()
        return running

    yield start
    for running in started:  # a failed test must not leave servers behind
        running.kill()
        if running.group_alive():
            os.killpg(running.process.pid, signal.SIGKILL)


# --- talking to the chat as a browser would ------------------------------------------------------

def browser() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def post_form(opener, jar, url: str, fields: dict[str, str]) -> str:
    """GET the page (for its csrftoken cookie), POST the form; the address it ends on after redirects."""
    opener.open(url, timeout=HTTP_WAIT).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf}).encode()
    with opener.open(urllib.request.Request(url, data=data, headers={"Referer": url}), timeout=HTTP_WAIT) as page:
        return page.url


def session_cookie(jar) -> str:
    sessions = [cookie.value for cookie in jar if cookie.name == "sessionid"]
    assert sessions, "the chat answered without a session cookie: the user is not logged in"
    return f"sessionid={sessions[0]}"


def sign_up_and_create_room(port: int, username: str, room: str) -> str:
    opener, jar = browser()
    base = f"http://127.0.0.1:{port}"
    post_form(opener, jar, f"{base}/accounts/signup/",
              {"username": username, "password1": PASSWORD, "password2": PASSWORD})
    landed = post_form(opener, jar, f"{base}/", {"name": room})
    assert landed.endswith(f"/rooms/{room}/"), f"creating room {room} ended on {landed}, not on the room's page"
    return session_cookie(jar)


def log_in(port: int, username: str) -> str:
    opener, jar = browser()
    post_form(opener, jar, f"http://127.0.0.1:{port}/accounts/login/", {"username": username, "password": PASSWORD})
    return session_cookie(jar)


async def open_room(port: int, room: str, cookie: str):
    socket = await connect(f"ws://127.0.0.1:{port}/ws/rooms/{room}/", origin=f"http://127.0.0.1:{port}",
                           additional_headers={"Cookie": cookie}, open_timeout=HTTP_WAIT)
    welcome = json.loads(await asyncio.wait_for(socket.recv(), HTTP_WAIT))
    assert welcome["type"] == "welcome", f"the first frame on port {port} was {welcome}, not a welcome"
    return socket


async def message_with(socket, client_id: str) -> dict:
    async with asyncio.timeout(EVENT_WAIT):
        while True:
            frame = json.loads(await socket.recv())
            if frame.get("type") == "message" and frame.get("client_id") == client_id:
                return frame


async def send_across(ports: list[int], room: str, cookie: str, text: str) -> None:
    """Send on the second process; both processes' sockets must show it."""
    first, second = await open_room(ports[0], room, cookie), await open_room(ports[1], room, cookie)
    client_id = uuid.uuid4().hex
    await second.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    try:
        await message_with(second, client_id)
    except TimeoutError:
        pytest.fail(f"A message sent on port {ports[1]} was not acknowledged there within {EVENT_WAIT:g} s",
                    pytrace=False)
    try:
        await message_with(first, client_id)
    except TimeoutError:
        pytest.fail(f"A message sent on port {ports[1]} never reached the socket on port {ports[0]} within "
                    f"{EVENT_WAIT:g} s: the two processes do not share Redis", pytrace=False)
    await first.close()
    await second.close()


def assert_stopped_cleanly(running: Running, code: int) -> None:
    output = running.text()
    assert code == 0, f"run_servers.py exited with {code}, not 0, when stopped:\n{output}"
    assert "Traceback" not in output, f"stopping run_servers.py printed a traceback:\n{output}"
    deadline = time.monotonic() + STOP
    while running.group_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running.group_alive(), f"processes started by run_servers.py outlived it:\n{output}"
    ports = running.server_ports()
    assert len(ports) == 4, f"expected the ports of PostgreSQL, Redis and two daphnes in its output:\n{output}"
    still_open = [port for port in ports if servers.port_is_open(port)]
    assert not still_open, f"ports {still_open} still answer after run_servers.py stopped:\n{output}"


# --- the tests -----------------------------------------------------------------------------------

@pytest.mark.timeout(240)
def test_two_processes_share_database_and_redis_and_ctrl_c_stops_them_all(run, data_dir):
    running = run(data_dir)
    cookie = sign_up_and_create_room(running.ports[0], "ada", "general")  # signed up on the first process
    asyncio.run(send_across(running.ports, "general", cookie, "hello from the second process"))
    assert_stopped_cleanly(running, running.stop(signal.SIGINT, whole_group=True))


@pytest.mark.timeout(300)
def test_the_data_survives_a_restart_and_sigterm_stops_them_all(run, data_dir):
    first_run = run(data_dir)
    sign_up_and_create_room(first_run.ports[0], "bob", "kept")
    assert_stopped_cleanly(first_run, first_run.stop(signal.SIGTERM, whole_group=False))

    second_run = run(data_dir)
    cookie = log_in(second_run.ports[1], "bob")  # the account made before the restart
    asyncio.run(send_across(second_run.ports, "kept", cookie, "still here"))
    assert_stopped_cleanly(second_run, second_run.stop(signal.SIGTERM, whole_group=False))


@pytest.mark.timeout(60)
def test_a_port_in_use_is_refused_before_anything_starts(data_dir):
    with socket.create_server((servers.LOCALHOST, 0)) as listener:  # anything listening will do
        taken = listener.getsockname()[1]
        done = subprocess.run([sys.executable, str(RUN_SERVERS), "--ports", f"{servers.free_port()},{taken}",
                               "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=STOP)
    assert done.returncode == 1, f"expected exit status 1, got {done.returncode}:\n{done.stdout}{done.stderr}"
    assert f"Port {taken} is already in use" in done.stdout, done.stdout + done.stderr
    assert not data_dir.exists(), "PostgreSQL was set up although a port was taken"


@pytest.mark.timeout(60)
def test_without_postgresql_it_says_what_to_install(data_dir):
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import run_servers; "
              "run_servers.servers.find_postgres = lambda: None; sys.exit(run_servers.main(sys.argv[2:]))")
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-c", script, str(CHAT), "--ports",
                           f"{servers.free_port()},{servers.free_port()}", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=STOP, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"expected exit status 1, got {done.returncode}:\n{output}"
    assert "No PostgreSQL found" in output and "DATABASE_URL" in output, output
    assert "Traceback" not in output, output
