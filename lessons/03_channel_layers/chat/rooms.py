"""Room names and the group names they become.

A room is a group on the channel layer, and group names are strict: ASCII letters, digits,
`-`, `_` and `.`, shorter than 100 characters. A URL route written as `\\w+` is looser: in
Python, `\\w` matches "é" too, so "café" reaches the consumer and `group_add` raises TypeError.
So the consumer checks the name itself, and refuses clearly, before touching the layer.
"""

import re

GROUP_PREFIX = "chat."
# channels checks `len(name) < 100` for every group name.
MAX_GROUP_NAME_LENGTH = 99
MAX_ROOM_NAME_LENGTH = MAX_GROUP_NAME_LENGTH - len(GROUP_PREFIX)

# re.ASCII would not be enough with [A-Za-z0-9]: it is written out so no locale can widen it.
ROOM_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")


def room_name_problem(room_name: str) -> str | None:
    """None when `room_name` can be a group name; else one sentence that says what is wrong."""
    # BEGIN SOLUTION task=1
    if not room_name:
        return "A room name cannot be empty."
    if len(room_name) > MAX_ROOM_NAME_LENGTH:
        return f"A room name has at most {MAX_ROOM_NAME_LENGTH} characters; this one has {len(room_name)}."
    if not ROOM_NAME_CHARACTERS.fullmatch(room_name):
        return "A room name may only use ASCII letters, digits, '-', '_' and '.'."
    return None
    # END SOLUTION


def group_name_for(room_name: str) -> str:
    return GROUP_PREFIX + room_name
