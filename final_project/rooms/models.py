"""Rooms and the messages stored in them. A message is stored before it is broadcast (see consumers.py)."""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse

# --8<-- [start:room_names]
# As in lesson 03: a room becomes a channel-layer group, and group names allow only ASCII letters,
# digits, "-", "_" and "." (shorter than 100). Python's \w would let "café" through.
ROOM_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")
MAX_ROOM_NAME_LENGTH = 64


def validate_room_name(name: str) -> None:
    if not ROOM_NAME_CHARACTERS.fullmatch(name):
        raise ValidationError("A room name may only use ASCII letters, digits, '-', '_' and '.'.",
                              code="invalid")
    if not re.search(r"[A-Za-z0-9]", name):
        raise ValidationError("A room name needs at least one letter or digit.", code="invalid")
# --8<-- [end:room_names]


class Room(models.Model):
    name = models.CharField(max_length=MAX_ROOM_NAME_LENGTH, unique=True, validators=[validate_room_name])
    slug = models.SlugField(max_length=MAX_ROOM_NAME_LENGTH, unique=True)
    is_private = models.BooleanField(default=False, help_text="Only the creator and the members may enter.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms_created")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="rooms", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The number of the room's newest message: storing a message adds one to it (Message.store).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("room", args=[self.slug])

    @property
    def group_name(self) -> str:
        """The channel-layer group of the room's sockets: slugs are [a-z0-9_-], so always a valid name."""
        return f"room.{self.slug}"

    def can_enter(self, user) -> bool:
        if not user.is_authenticated:
            return False
        if not self.is_private or self.created_by_id == user.pk:
            return True
        return self.members.filter(pk=user.pk).exists()

    @classmethod
    def visible_to(cls, user):
        return cls.objects.filter(
            models.Q(is_private=False) | models.Q(created_by=user) | models.Q(members=user)).distinct()


# --8<-- [start:message_model]
@dataclass(frozen=True)
class Draft:
    """A message a client sent, not stored yet."""
    room: Room
    user: object  # settings.AUTH_USER_MODEL
    text: str
    client_id: str


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # The message's `id` on the wire: its number in its room, 1, 2, 3 ... with no hole, in commit order.
    # So when a client has seen number N, every message up to N is stored and visible, and "everything
    # after N" (the `sync` frame, the history endpoint) never skips one. The primary key could not
    # promise that on PostgreSQL: it is taken at INSERT, and transactions commit in any order.
    seq = models.PositiveBigIntegerField(editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField()
    # Chosen by the client, unique per user and room: a resend after a drop finds the original instead
    # of creating a second message, and an id reused in another room is another message there.
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["room_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="one_message_per_number_in_room"),
            models.UniqueConstraint(fields=["room", "user", "client_id"], name="one_message_per_client_id_in_room"),
        ]

    @classmethod
    def store(cls, room: Room, user, text: str, client_id: str) -> tuple["Message", bool]:
        """One message: (the message, whether it is new). Raises Room.DoesNotExist if the room is gone."""
        stored = cls.store_many([Draft(room, user, text, client_id)])[0]
        if stored is None:
            raise Room.DoesNotExist
        return stored

    @classmethod
    def store_many(cls, drafts: list[Draft]) -> list[tuple["Message", bool] | None]:
        """Number and store messages in one transaction. For each draft: (the message, whether it is new), or
        None when its room is gone. A client_id its user already used in the room gives back the original."""
        results: list[tuple[Message, bool] | None] = [None] * len(drafts)
        by_room = defaultdict(list)
        for index, draft in enumerate(drafts):
            by_room[draft.room.pk].append(index)
        with transaction.atomic():
            # Rooms in the same order in every process: two batches never wait for each other's rooms.
            for room_pk in sorted(by_room):
                # The room's row stays locked until the commit: another writer in this room waits here, so
                # numbers are committed in the order they are taken. (SQLite: one writer at a time anyway.)
                last = Room.objects.select_for_update(no_key=True).filter(pk=room_pk).values_list(
                    "last_seq", flat=True).first()
                if last is None:
                    continue
                mine = [drafts[index] for index in by_room[room_pk]]
                # Under that lock nobody else can store these client_ids: look first, rather than let the
                # unique constraint fail (PostgreSQL would log every resend as an ERROR).
                known = {(message.user_id, message.client_id): message for message in cls.objects.filter(
                    reduce(or_, (Q(user=draft.user, client_id=draft.client_id) for draft in mine)),
                    room_id=room_pk).select_related("room", "user")}
                new = []
                for index, draft in zip(by_room[room_pk], mine):
                    key = (draft.user.pk, draft.client_id)
                    if key in known:  # stored before, or earlier in this batch
                        results[index] = (known[key], False)
                        continue
                    last += 1
                    known[key] = cls(room=draft.room, seq=last, user=draft.user, text=draft.text,
                                     client_id=draft.client_id)
                    new.append(known[key])
                    results[index] = (known[key], True)
                if new:
                    cls.objects.bulk_create(new)
                    Room.objects.filter(pk=room_pk).update(last_seq=last)
        return results

    def __str__(self) -> str:
        return f"{self.user} in {self.room}: {self.text[:40]}"

    def as_frame(self) -> dict:
        """The message as the protocol sends it: only str and int values, safe for msgpack."""
        return {
            "type": "message",
            "id": self.seq,
            "room": self.room.slug,
            "user": self.user.get_username(),
            "text": self.text,
            "ts": self.created_at.isoformat(),
            "client_id": self.client_id,
        }
# --8<-- [end:message_model]
