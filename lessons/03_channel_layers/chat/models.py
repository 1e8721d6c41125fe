from django.core.exceptions import ValidationError
from django.db import models

from .rooms import MAX_ROOM_NAME_LENGTH, room_name_problem


def validate_room_name(value: str) -> None:
    if problem := room_name_problem(value):
        raise ValidationError(problem)


class Announcement(models.Model):
    """A message from the staff to one room, written in the admin and pushed to its sockets."""

    room_name = models.CharField(max_length=MAX_ROOM_NAME_LENGTH, validators=[validate_room_name])
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.room_name}: {self.message}"
