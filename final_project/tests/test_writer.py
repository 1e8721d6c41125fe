"""Group commit (rooms/writer.py, Message.store_many): many messages per transaction, each as if stored alone."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from rooms import writer as writer_module
from rooms.models import Draft, Message, Room

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_numbers_each_room_in_order_and_a_repeated_client_id_is_a_resend(general, ada, bob):
    other = Room.objects.create(name="other", slug="other", created_by=ada)
    results = Message.store_many([Draft(general, ada, "one", "a"), Draft(other, bob, "elsewhere", "b"),
                                  Draft(general, bob, "two", "c"), Draft(general, ada, "one again", "a")])
    assert [(message.room.slug, message.seq, message.text, new) for message, new in results] == [
        ("general", 1, "one", True), ("other", 1, "elsewhere", True), ("general", 2, "two", True),
        ("general", 1, "one", False)], "numbers per room, in the batch's order; the repeated client_id is a resend"
    assert Message.objects.count() == 3
    assert Room.objects.get(pk=general.pk).last_seq == 2 and Room.objects.get(pk=other.pk).last_seq == 1


def test_a_resend_in_a_later_batch_gets_the_original_and_takes_no_number(general, ada):
    (first, _), = Message.store_many([Draft(general, ada, "hello", "h")])
    (again, new), (after, _) = Message.store_many([Draft(general, ada, "hello (resent)", "h"),
                                                   Draft(general, ada, "next", "n")])
    assert (again.pk, new) == (first.pk, False)
    assert after.seq == 2, f"the message after a resend is number {after.seq}: a resend must not take a number"


def test_a_deleted_room_fails_its_drafts_only(general, ada):
    gone = Room.objects.create(name="gone", slug="gone", created_by=ada)
    Room.objects.filter(pk=gone.pk).delete()
    results = Message.store_many([Draft(gone, ada, "into the void", "v"), Draft(general, ada, "fine", "f")])
    assert results[0] is None
    assert results[1][0].seq == 1 and results[1][1]


@pytest.mark.expected_server_errors("violates foreign key constraint")
async def test_a_draft_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(general, ada):
    ghost = User(pk=987654, username="ghost")  # deleted while connected: the row it points to is gone
    results = await writer_module.store_batch([Draft(general, ada, "kept", "k1"), Draft(general, ghost, "x", "g"),
                                               Draft(general, ada, "kept too", "k2")])
    assert isinstance(results[1], writer_module.NotStored)
    assert [(results[0][0]["text"], results[0][0]["id"]), (results[2][0]["text"], results[2][0]["id"])] == [
        ("kept", 1), ("kept too", 2)], "the others are stored, numbered with no hole"


async def test_messages_that_arrive_while_a_batch_is_stored_share_the_next_one(general, ada, monkeypatch):
    batches = []
    store_batch = writer_module.store_batch

    async def counted(drafts):
        batches.append(len(drafts))
        return await store_batch(drafts)

    monkeypatch.setattr(writer_module, "store_batch", counted)
    writer = writer_module.MessageWriter()
    frames = await asyncio.gather(*(writer.store(Draft(general, ada, f"m{n}", f"c{n}")) for n in range(30)))
    assert [(frame["text"], frame["id"], new) for frame, new in frames] == [(f"m{n}", n + 1, True) for n in range(30)]
    assert len(batches) < 30 and sum(batches) == 30, (
        f"30 messages sent at once were stored in batches of {batches}: the ones that arrive while a batch is "
        "stored must wait for the next batch, not each take a transaction")
    assert await database_sync_to_async(Message.objects.count)() == 30
