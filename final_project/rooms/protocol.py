"""The client's frames, read and validated. Every problem becomes a FrameError with a protocol code.

One Django form per frame type checks the fields; the strict fields below refuse JSON of the wrong
type (a number where text belongs) instead of converting it, as a web form would.
"""

import json

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

ERROR_CODES = {"bad_json", "bad_frame", "too_big", "unknown_type", "invalid", "too_long", "rate_limited",
               "not_stored"}


class FrameError(ValueError):
    """A frame the chat cannot use: `code` is for programs, `detail` for people. The error frame names the
    refused frame's type and client_id when they are known, so a client knows which of its frames failed."""

    def __init__(self, code: str, detail: str, *, frame_type: str | None = None, client_id: str | None = None,
                 retry_after: float | None = None):
        assert code in ERROR_CODES, code
        super().__init__(detail)
        self.code, self.detail = code, detail
        self.frame_type, self.client_id, self.retry_after = frame_type, client_id, retry_after

    def as_frame(self) -> dict:
        frame = {"type": "error", "code": self.code, "detail": self.detail}
        if self.frame_type is not None:
            frame["for"] = self.frame_type
        if self.client_id is not None:
            frame["client_id"] = self.client_id
        if self.retry_after is not None:
            frame["retry_after"] = round(self.retry_after, 1)
        return frame


class StrictCharField(forms.CharField):
    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            raise ValidationError("must be a string", code="invalid")
        if isinstance(value, str) and not is_unicode_text(value):
            raise ValidationError("must be Unicode text (a lone surrogate such as \\ud800 is not)", code="invalid")
        return super().to_python(value)


def is_unicode_text(value: str) -> bool:
    """JSON may escape half of a surrogate pair ("\\ud800") on its own: Python accepts it in a str, but
    no database or UTF-8 encoder does."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    if len(text_data) > settings.CHAT_MAX_FRAME:
        raise FrameError("too_big", f"A frame has at most {settings.CHAT_MAX_FRAME} characters.")
    try:
        frame = json.loads(text_data)
    except RecursionError:  # thousands of nested brackets: Python's parser gives up, the socket must not
        raise FrameError("bad_json", "The frame nests JSON too deeply.") from None
    except ValueError:
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", 'A frame is a JSON object with a "type".')
    frame_type = frame.get("type")
    if not isinstance(frame_type, str) or frame_type not in FRAME_FORMS:
        raise FrameError("unknown_type", f"Unknown frame type {brief(frame_type)}; use one of: "
                                         + ", ".join(FRAME_FORMS) + ".")
    client_id = frame.get("client_id")
    about = {"frame_type": frame_type,
             "client_id": client_id if isinstance(client_id, str) and is_unicode_text(client_id) else None}
    form = FRAME_FORMS[frame_type](data=frame)
    if not form.is_valid():
        errors = form.errors.as_data()
        if any(error.code == "max_length" for error in errors.get("text", [])):
            raise FrameError("too_long", f"A message has at most {settings.CHAT_MAX_TEXT} characters.", **about)
        detail = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in form.errors.items())
        raise FrameError("invalid", detail, **about)
    return frame_type, form.cleaned_data


def brief(value) -> str:
    """A client's value quoted in an error's detail: repr, cut short, and valid UTF-8 whatever it holds."""
    text = repr(value)
    text = text if len(text) <= 40 else text[:39] + "…"
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")
# --8<-- [end:read_frame]
