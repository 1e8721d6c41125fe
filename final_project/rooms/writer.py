"""Group commit: the messages of every socket of a process, stored many per transaction.

A process runs its database calls one at a time, on one thread (database_sync_to_async). Storing each
message in its own call costs a trip to that thread, a connection, a transaction and a commit, per
message. Here the messages that arrive while a batch is being stored wait for the next batch, which
stores them all in one call and one transaction (Message.store_many). Under light load a batch is one
message and nothing waits; under heavy load the batches grow by themselves. Every message is still
stored, and committed, before its socket broadcasts it.
"""

import asyncio
import weakref
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db import IntegrityError

from .models import Draft, Message

MAX_BATCH = 200  # messages per transaction at most: a batch holds its rooms' locks until it commits


class RoomGone(Exception):
    """The room was deleted while a socket was in it."""


class NotStored(Exception):
    """The database refused the message for a reason nobody expects (the client may try again)."""


@dataclass
class Pending:
    draft: Draft
    done: asyncio.Future


# --8<-- [start:store_batch]
@database_sync_to_async
def store_batch(drafts: list[Draft]) -> list:
    """Each draft's (message frame, whether it is new), or the exception that refused it."""
    try:
        stored = Message.store_many(drafts)
    except IntegrityError:
        # One draft broke a constraint and the whole transaction rolled back: store them one by one.
        stored = []
        for draft in drafts:
            try:
                stored.extend(Message.store_many([draft]))
            except IntegrityError:
                stored.append(NotStored())
    return [result if isinstance(result, Exception) else RoomGone() if result is None
            else (result[0].as_frame(), result[1]) for result in stored]
# --8<-- [end:store_batch]


class MessageWriter:
    """One per event loop (a server process has one): see the module's docstring."""

    def __init__(self):
        self.waiting: list[Pending] = []
        self.task: asyncio.Task | None = None

    async def store(self, draft: Draft) -> tuple[dict, bool]:
        """(the stored message's frame, whether it is new), once its batch is committed. Raises RoomGone or
        NotStored."""
        pending = Pending(draft, asyncio.get_running_loop().create_future())
        self.waiting.append(pending)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.write())
        return await pending.done

    async def write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            try:
                results = await store_batch([pending.draft for pending in batch])
            except Exception as error:  # the database is away: every socket of the batch hears of it
                results = [error] * len(batch)
            for pending, result in zip(batch, results):
                if pending.done.done():  # its socket closed meanwhile: the message is stored all the same
                    continue
                if isinstance(result, BaseException):
                    pending.done.set_exception(result)
                else:
                    pending.done.set_result(result)


writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter]" = weakref.WeakKeyDictionary()


def writer() -> MessageWriter:
    loop = asyncio.get_running_loop()
    if loop not in writers:
        writers[loop] = MessageWriter()
    return writers[loop]
