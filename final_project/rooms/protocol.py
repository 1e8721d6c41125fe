"""The client's frames, read and validated. Every problem becomes a FrameError with a protocol code.

One Django form per frame type checks the fields; the strict fields below refuse JSON of the wrong
type (a number where text belongs) instead of converting it, as a web form would.
"""

import json

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

ERROR_CODES = {"bad_json", "bad_frame", "unknown_type", "invalid", "too_long", "rate_limited"}


class FrameError(ValueError):
    """A frame the chat cannot use: `code` is for programs, `detail` for people."""

    def __init__(self, code: str, detail: str):
        assert code in ERROR_CODES, code
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def as_frame(self) -> dict:
        return {"type": "error", "code": self.code, "detail": self.detail}


class StrictCharField(forms.CharField):
    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            raise ValidationError("must be a string", code="invalid")
        return super().to_python(value)


class StrictIntegerField(forms.IntegerField):
    def to_python(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationError("must be an integer", code="invalid")
        return super().to_python(value)


# --8<-- [start:forms]
class MessageFrame(forms.Form):
    # strip=True: a text of spaces only is empty, so "required" refuses it.
    text = StrictCharField(max_length=settings.CHAT_MAX_TEXT)
    client_id = StrictCharField(min_length=1, max_length=64, strip=False)


class TypingFrame(forms.Form):
    pass


class SyncFrame(forms.Form):
    after = StrictIntegerField(min_value=0)


FRAME_FORMS = {"message": MessageFrame, "typing": TypingFrame, "sync": SyncFrame}
# --8<-- [end:forms]


# --8<-- [start:read_frame]
def read_frame(text_data: str | None, bytes_data: bytes | None = None) -> tuple[str, dict]:
    """(type, cleaned fields) of one client frame, or FrameError saying what is wrong with it."""
    if text_data is None:
        raise FrameError("bad_frame", "Send text frames holding JSON, not binary frames.")
    try:
        frame = json.loads(text_data)
    except ValueError:
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", 'A frame is a JSON object with a "type".')
    frame_type = frame.get("type")
    if not isinstance(frame_type, str) or frame_type not in FRAME_FORMS:
        raise FrameError("unknown_type", f"Unknown frame type {frame_type!r}; use one of: "
                                         + ", ".join(FRAME_FORMS) + ".")
    form = FRAME_FORMS[frame_type](data=frame)
    if not form.is_valid():
        errors = form.errors.as_data()
        if any(error.code == "max_length" for error in errors.get("text", [])):
            raise FrameError("too_long", f"A message has at most {settings.CHAT_MAX_TEXT} characters.")
        detail = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in form.errors.items())
        raise FrameError("invalid", detail)
    return frame_type, form.cleaned_data
# --8<-- [end:read_frame]
