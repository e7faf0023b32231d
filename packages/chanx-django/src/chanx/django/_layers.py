"""Channel-layer interoperability between Chanx and Channels."""

from __future__ import annotations

from channels.exceptions import ChannelFull as ChannelsChannelFull

from chanx.core.layers import ChannelFull

__all__ = ["CHANNEL_FULL_ERRORS"]

#: Catch this instead of ``channels.exceptions.ChannelFull`` alone: a Chanx layer named as a
#: ``CHANNEL_LAYERS`` backend raises Chanx's own ``ChannelFull``, which is not a subclass.
CHANNEL_FULL_ERRORS: tuple[type[Exception], ...] = (ChannelsChannelFull, ChannelFull)
