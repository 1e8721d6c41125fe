"""Reaching a room from outside any consumer: a view, a signal, a management command.

They run as plain sync code, and the layer's methods are coroutines: `async_to_sync` runs one
and waits for it. (Inside an async function, `await` the layer directly instead:
`async_to_sync` refuses to run on a thread that already runs an event loop.)
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .rooms import group_name_for


# --8<-- [start:announce_to_room]
def announce_to_room(room_name: str, message: str) -> None:
    """Push an announcement to every socket in the room (in this process: the layer is in memory)."""
    # BEGIN SOLUTION task=3
    channel_layer = get_channel_layer()
    async_to_sync(channel_layer.group_send)(
        group_name_for(room_name), {"type": "chat.announcement", "message": message}
    )
    # END SOLUTION
# --8<-- [end:announce_to_room]
