"""A new Announcement saved by the server's own process (the admin, a view) is pushed to its room.

A save from another process, such as `manage.py shell` next to the running server, is not: that
process has its own in-memory layer, with none of the server's sockets in it (lesson 04's Redis
layer is what connects processes)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .broadcast import announce_to_room
from .models import Announcement


@receiver(post_save, sender=Announcement, dispatch_uid="chat-push-new-announcement")
def push_new_announcement(sender, instance, created, **kwargs):
    # BEGIN SOLUTION task=3
    if created:
        # After the commit: a save that is rolled back must not have been announced.
        transaction.on_commit(lambda: announce_to_room(instance.room_name, instance.message))
    # END SOLUTION
