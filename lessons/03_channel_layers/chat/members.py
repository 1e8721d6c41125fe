"""Who is in which room, by name: the one way to find a member's channel_name.

A plain dict in this process, like the in-memory layer itself: a second server process would not
see it. That is fine for this lesson; the final project keeps presence where every process sees it.
"""

_rooms: dict[str, dict[str, str]] = {}


def join(room_name: str, member_name: str, channel_name: str) -> None:
    _rooms.setdefault(room_name, {})[member_name] = channel_name


def leave(room_name: str, member_name: str) -> None:
    members = _rooms.get(room_name, {})
    members.pop(member_name, None)
    if not members:
        _rooms.pop(room_name, None)


def channel_of(room_name: str, member_name: str) -> str | None:
    return _rooms.get(room_name, {}).get(member_name)


def forget_everyone() -> None:
    """For tests: start from empty rooms."""
    _rooms.clear()
