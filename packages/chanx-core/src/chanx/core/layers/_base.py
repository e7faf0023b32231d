"""The channel-layer protocol, its error and the name rules shared by every backend.

The protocol mirrors the Django Channels layer specification, so any Channels layer
satisfies it and Chanx's layers can serve as a Channels ``CHANNEL_LAYERS`` backend.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ChannelFull",
    "ChannelLayer",
    "require_valid_channel_name",
    "require_valid_group_name",
]

MAX_NAME_LENGTH = 99
# Matched with fullmatch: with match() and "$", "room\n" would pass as a separate group.
_GROUP_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,99}")
_CHANNEL_NAME = re.compile(r"[a-zA-Z0-9_.-]+!?[a-zA-Z0-9_.-]*")


class ChannelFull(Exception):  # noqa: N818 - the name is the Channels spec's
    """Raised by ``send`` when the target channel already holds ``capacity`` messages."""


@runtime_checkable
class ChannelLayer(Protocol):
    """What Chanx needs of a channel layer: the Channels spec's core plus the groups extension.

    Messages are dicts with a ``type`` key whose values are JSON- (or msgpack-) serialisable.
    A message handed to ``send``/``group_send`` may be shared between receivers: treat
    received messages as read-only.
    """

    extensions: list[str]

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` on ``channel``; raise `ChannelFull` at capacity."""
        ...

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for the next message on ``channel``; cancellation loses no message."""
        ...

    async def new_channel(self, prefix: str = "specific.") -> str:
        """Return a new, unique, process-specific channel name."""
        ...

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group`` (refreshing its membership expiry)."""
        ...

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; a no-op when it is not a member."""
        ...

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every channel in ``group``; full members are skipped."""
        ...

    async def flush(self) -> None:
        """Drop every channel, message and group."""
        ...

    async def close(self) -> None:
        """Release connections and background work."""
        ...


def _shown(name: object) -> str:
    # Names often come from clients (a room id in the URL): an error or a log line quotes
    # the start of a long one, not all of it.
    text = repr(name)
    return text if len(text) <= 120 else f"{text[:100]}… ({len(text)} characters)"


def _plain(name: str) -> str:
    # A str subclass (an Enum member, a class overriding __str__ or __format__) would be
    # checked by its characters but then used through f-strings and hashing, where it can
    # turn into another name ("Room.LOBBY" in a Redis key): callers use the plain copy.
    return name if name.__class__ is str else str.__str__(name)


def require_valid_group_name(name: object) -> str:
    """Return ``name`` as a plain `str` if it is a valid group name, else raise `TypeError`.

    Layers use the returned value, not ``name``: for a `str` subclass it is the plain string
    of the same characters.
    """
    if isinstance(name, str) and _GROUP_NAME.fullmatch(name):
        return _plain(name)
    raise TypeError(
        "Group name must be a string of 1 to 99 ASCII letters, digits, '-', '_' or '.', "
        f"but got {_shown(name)}"
    )


def require_valid_channel_name(name: object) -> str:
    """Return ``name`` as a plain `str` if it is a valid channel name, else raise `TypeError`.

    A process-specific name has one ``!``: ``prefix!suffix``. As with group names, layers
    use the returned value.
    """
    if isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and _CHANNEL_NAME.fullmatch(name):
        return _plain(name)
    raise TypeError(
        "Channel name must be a string of 1 to 99 ASCII letters, digits, '-', '_' or '.' "
        f"with at most one '!', but got {_shown(name)}"
    )
