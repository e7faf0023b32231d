"""What a consumer sends through its channel layer: layers by alias, group targets, frames.

Plain functions the consumer's methods delegate to; none of them knows the consumer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chanx.core._adapters import FrameworkAdapter
from chanx.core._messages import BaseEvent, BaseMessage, encode_message
from chanx.core.layers import ChannelLayer, get_channel_layer

__all__ = ["SEND_TEXT_EVENT", "event_data", "frame_event", "layer_for", "numbered", "targets"]

#: Layer event carrying a ready JSON frame (``text``) to forward without re-encoding.
SEND_TEXT_EVENT = "chanx.send"


def layer_for(adapter: FrameworkAdapter | None, alias: str) -> ChannelLayer:
    """The layer ``adapter``'s framework names ``alias``, else Chanx's registry's."""
    layer = adapter.get_channel_layer(alias) if adapter is not None else None
    return layer if layer is not None else get_channel_layer(alias)


def targets(groups: Sequence[str] | str | None, default: Iterable[str]) -> list[str]:
    """The groups a broadcast goes to: ``groups``, or ``default`` when None."""
    if groups is None:
        return list(default)
    if isinstance(groups, str):
        return [groups]
    if not groups:
        raise ValueError("groups=[] names no group; pass None for the default groups, or name them")
    return list(groups)


def frame_event(message: BaseMessage, exclude: str | None = None) -> dict[str, Any]:
    """The layer event that carries ``message`` to clients, encoded once."""
    event: dict[str, Any] = {"type": SEND_TEXT_EVENT, "text": encode_message(message)}
    if exclude is not None:
        event["exclude"] = exclude
    return event


def event_data(event: BaseEvent) -> dict[str, Any]:
    """A typed event as the layer message it travels as (Channels' convention)."""
    return event.model_dump(mode="json", by_alias=True)


def numbered(text: str, seq: int) -> str:
    """``text`` (a JSON object) with ``"seq": seq`` as its first member."""
    rest = text[1:]
    if rest[:1] != '"' and rest.lstrip()[:1] == "}":  # "{}", "{ }": no member to follow
        return f'{{"seq":{seq}}}'
    return f'{{"seq":{seq},{rest}'
