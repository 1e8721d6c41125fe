"""Outbound data binding, today: a post_save receiver that tells a group."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import IntegerValue


# --8<-- [start:binding_outbound]
@receiver(post_save, sender=IntegerValue, dispatch_uid="intval-changed")
def push_intval_change(sender, instance, created, **kwargs):
    event = {
        "type": "intval.changed",
        "action": "create" if created else "update",
        "pk": instance.pk,
        "data": {"name": instance.name, "value": instance.value},
    }
    # After the commit: a rolled-back save must not be announced.
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)("intval-updates", event))
# --8<-- [end:binding_outbound]
