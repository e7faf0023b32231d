"""Channel layers: the protocol, the in-memory backend and the alias registry."""

from __future__ import annotations

from chanx.core.layers._base import (
    ChannelFull,
    ChannelLayer,
    require_valid_channel_name,
    require_valid_group_name,
)
from chanx.core.layers._health import LayerHealth, check_channel_layer
from chanx.core.layers._loops import AsyncClosable, close_with_loop
from chanx.core.layers._losses import LossReporter
from chanx.core.layers._mailbox import Mailbox
from chanx.core.layers._memory import InMemoryChannelLayer
from chanx.core.layers._registry import (
    get_channel_layer,
    lookup_channel_layer,
    register_channel_layer,
    registered_channel_layers,
    unregister_channel_layer,
)
from chanx.core.layers._stats import LayerStats

__all__ = [
    "AsyncClosable",
    "ChannelFull",
    "ChannelLayer",
    "InMemoryChannelLayer",
    "LayerHealth",
    "LayerStats",
    "LossReporter",
    "Mailbox",
    "check_channel_layer",
    "close_with_loop",
    "get_channel_layer",
    "lookup_channel_layer",
    "register_channel_layer",
    "registered_channel_layers",
    "require_valid_channel_name",
    "require_valid_group_name",
    "unregister_channel_layer",
]
