"""Consumers for named channels. `manage.py runworker chat-messages` runs them; no socket is involved."""

from asgiref.sync import async_to_sync
from channels.consumer import AsyncConsumer, SyncConsumer

from .models import ChatMessage


# --8<-- [start:workers]
class ChatMessageWorker(AsyncConsumer):
    async def save_message(self, event):  # {"type": "save.message", "room": ..., "message": ...}
        await ChatMessage.objects.acreate(room=event["room"], message=event["message"])
        await self.channel_layer.group_send(
            f"chat-{event['room']}", {"type": "chat.message", "text": event["message"]}
        )


class SyncChatMessageWorker(SyncConsumer):
    """The same worker, sync: runworker runs either kind."""

    def save_message(self, event):
        ChatMessage.objects.create(room=event["room"], message=event["message"])
        async_to_sync(self.channel_layer.group_send)(
            f"chat-{event['room']}", {"type": "chat.message", "text": event["message"]}
        )
# --8<-- [end:workers]
