"""A crashed ChatConsumer, said in the learner's words: what the exception usually means in this lesson."""

from channels.exceptions import ChannelFull
from channels.testing import WebsocketCommunicator


def explain(crash: BaseException) -> str:
    """What a crash of the consumer means in this lesson, in the learner's words."""
    text = str(crash)
    if text.startswith("No handler for message type "):
        event_type = text.removeprefix("No handler for message type ")
        return (f"ChatConsumer got an event of type {event_type!r} from the layer and has no method "
                f"{event_type.replace('.', '_')}() for it: Channels calls the method named by the event's "
                '"type", with dots turned into underscores ("chat.message" -> chat_message).')
    if text.startswith("No route found for path"):
        return (f"{text.rstrip('.')}: check chat/routing.py. Capture the room name loosely ([^/]+) and let "
                "the consumer refuse a bad name with a reason.")
    if isinstance(crash, ChannelFull):
        return ("channel_layer.send() raised ChannelFull: that member's queue is full. Catch ChannelFull "
                "and tell the sender (error code not_delivered) instead of letting the consumer crash.")
    if text.startswith("Channel name must be"):
        return (f"The layer refused a channel name ({text.rstrip('.')}). Was it None? members.channel_of() "
                "returns None for a name that is not in the room: answer no_such_member instead of sending.")
    return f"ChatConsumer raised {type(crash).__name__}: {text.rstrip('.')}."


def crash_report(communicator: WebsocketCommunicator, doing: str) -> str | None:
    """A sentence about the consumer's crash, or None while it runs (or after the test stopped it)."""
    future = communicator.future
    if not future.done() or future.cancelled() or future.exception() is None:
        return None
    return f"{explain(future.exception())} This happened while {doing}."
