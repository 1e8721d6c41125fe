"""What a client may send on a chat socket: one JSON object per frame, `{"message": "some text"}`.

Anything else gets an error frame back, `{"type": "error", "code": ..., "detail": ...}`, and the
socket stays open: one bad frame is no reason to drop a member.
"""

import json

MAX_MESSAGE_LENGTH = 500


class FrameError(ValueError):
    """A frame the chat cannot use; `code` is for programs, `detail` for people."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def read_chat_message(text_data: str | None) -> str:
    """The text of the chat message in one frame, or FrameError saying why there is none."""
    # BEGIN SOLUTION task=1
    if text_data is None:
        raise FrameError("not_text", "Send text frames holding JSON, not binary frames.")
    try:
        frame = json.loads(text_data)
    except json.JSONDecodeError:
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("not_an_object", 'Send a JSON object: {"message": "..."}.')
    message = frame.get("message")
    if not isinstance(message, str) or not message.strip():
        raise FrameError("missing_message", 'The object needs a "message" with some text.')
    if len(message) > MAX_MESSAGE_LENGTH:
        raise FrameError("message_too_long", f"A message has at most {MAX_MESSAGE_LENGTH} characters.")
    return message
    # END SOLUTION
