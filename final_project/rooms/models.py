"""Rooms and the messages stored in them. A message is stored before it is broadcast (see consumers.py)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
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
class Message(models.Model):
    # The primary key is the message's `id` on the wire: it only grows, so "everything after id N"
    # is a well-defined question (the `sync` frame and the history endpoint ask it).
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField()
    # Chosen by the client, unique per user and room: a resend after a drop finds the original instead
    # of creating a second message, and an id reused in another room is another message there.
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user", "client_id"], name="one_message_per_client_id_in_room"),
        ]
        indexes = [models.Index(fields=["room", "id"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}: {self.text[:40]}"

    def as_frame(self) -> dict:
        """The message as the protocol sends it: only str and int values, safe for msgpack."""
        return {
            "type": "message",
            "id": self.id,
            "room": self.room.slug,
            "user": self.user.get_username(),
            "text": self.text,
            "ts": self.created_at.isoformat(),
            "client_id": self.client_id,
        }
# --8<-- [end:message_model]
