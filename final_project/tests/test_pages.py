"""The HTTP side: accounts, the lobby, rooms, members, the history endpoint, the admin, the settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rooms.models import Message, Room

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parent.parent


def test_every_page_needs_a_login(client, general):
    for url in ["/", "/rooms/general/", "/rooms/general/messages"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_sign_up_logs_in_and_lands_in_the_lobby(client):
    response = client.post("/accounts/signup/", {"username": "carol", "password1": PASSWORD,
                                                 "password2": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"].username == "carol"


def test_log_in_and_log_out(client, ada):
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_forms_are_csrf_protected(ada):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 403


def test_the_lobby_creates_a_room_and_refuses_bad_or_taken_names(client, ada):
    client.force_login(ada)
    response = client.post("/", {"name": "Team.Chat"})
    room = Room.objects.get(name="Team.Chat")
    assert response["Location"] == "/rooms/teamchat/" and room.slug == "teamchat" and room.created_by == ada
    for bad in ["café", "two words", "...", "teamchat", "x" * 65]:
        response = client.post("/", {"name": bad})
        assert response.status_code == 200 and response.context["form"].errors, bad
    assert Room.objects.count() == 1


def test_private_rooms_are_hidden_and_refused_to_others(client, secret, general, bob):
    client.force_login(bob)
    assert [room.name for room in client.get("/").context["rooms"]] == ["general"]
    assert client.get("/rooms/secret/").status_code == 403
    assert client.get("/rooms/secret/messages").status_code == 403
    assert client.get("/rooms/nowhere/").status_code == 404


def test_only_the_creator_adds_members_by_username(client, secret, ada, bob, make_user):
    carol = make_user("carol")
    client.force_login(bob)
    assert client.post("/rooms/secret/members", {"username": "bob"}).status_code == 403
    client.force_login(ada)
    client.post("/rooms/secret/members", {"username": "bob"})
    client.post("/rooms/secret/members", {"username": "nobody"})
    assert list(secret.members.all()) == [bob]
    client.force_login(bob)
    assert client.get("/rooms/secret/").status_code == 200
    client.force_login(carol)
    assert client.get("/rooms/secret/").status_code == 403


def test_the_room_page_embeds_the_last_50_messages_as_data(client, general, ada):
    for n in range(60):
        Message.store(general, ada, f"m{n}", f"c{n}")
    client.force_login(ada)
    response = client.get("/rooms/general/")
    history = response.context["client_config"]["history"]
    assert [m["text"] for m in history] == [f"m{n}" for n in range(10, 60)]


def test_history_pages_backwards_oldest_first(client, general, ada):
    ids = [Message.store(general, ada, f"m{n}", f"c{n}")[0].seq for n in range(30)]
    assert ids == list(range(1, 31)), f"the messages of a new room were numbered {ids}, not 1, 2, 3 ..."
    client.force_login(ada)
    page = client.get(f"/rooms/general/messages?before={ids[20]}&limit=5").json()
    assert [m["id"] for m in page["messages"]] == ids[15:20] and page["has_more"]
    assert set(page["messages"][0]) == {"type", "id", "room", "user", "text", "ts", "client_id"}
    first = client.get(f"/rooms/general/messages?before={ids[3]}&limit=10").json()
    assert [m["id"] for m in first["messages"]] == ids[:3] and not first["has_more"]


@pytest.mark.parametrize("query", ["before=x", "limit=0", "limit=1000", "before=-1", "limit=abc"])
def test_history_refuses_bad_parameters(client, general, ada, query):
    client.force_login(ada)
    assert client.get(f"/rooms/general/messages?{query}").status_code == 400


def test_the_admin_manages_rooms_and_messages(admin_client, general, ada):
    Message.store(general, ada, "hello", "a")
    assert admin_client.get("/admin/rooms/room/").status_code == 200
    assert b"hello" in admin_client.get("/admin/rooms/message/").content


def run_settings(env: dict) -> subprocess.CompletedProcess:
    code = "from django.conf import settings; print(settings.DEBUG, settings.CHANNEL_LAYERS['default']['BACKEND'])"
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "REDIS_URL", "CHANNEL_LAYER"}}
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=PROJECT,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "chat_site.settings", **env},
                          capture_output=True, text=True)


def test_production_settings_need_a_secret_key_and_keep_debug_off():
    assert "Set SECRET_KEY" in run_settings({}).stderr
    result = run_settings({"SECRET_KEY": "s"})
    assert result.stdout.split() == ["False", "channels.layers.InMemoryChannelLayer"]
    result = run_settings({"SECRET_KEY": "s", "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.stdout.split() == ["False", "channels_redis.core.RedisChannelLayer"]
