"""A logout closes the session's open sockets: each socket joins its session's group, the logout tells it."""

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .broker import BROKER_ERRORS

logger = logging.getLogger(__name__)


def session_group(session_key: str) -> str:
    # A hash, not the key: group names are stored in Redis, and a session key is a password.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


@receiver(user_logged_out)
def close_the_sessions_sockets(sender, request, user, **kwargs):
    session_key = request.session.session_key
    if not session_key:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(session_group(session_key), {"type": "session.ended"})
    except BROKER_ERRORS as error:
        # The logout itself must not fail: the session is gone, so the sockets' next reconnect is refused.
        logger.warning("Could not tell the sockets of a logged-out session (Redis unavailable): %s", error)
