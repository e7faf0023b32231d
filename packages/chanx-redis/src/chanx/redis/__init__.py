"""A Redis channel layer for Chanx and Django Channels.

Install with ``pip install chanx-redis`` (``chanx-redis[hiredis]`` parses replies in C). The
package registers the ``redis://``, ``rediss://``, ``redis+sentinel://`` and
``redis+cluster://`` layer URL schemes, so ``register_channel_layer("default",
"redis://127.0.0.1:6379/0")`` finds it; under Django, name
``"chanx.redis.RedisChannelLayer"`` as the ``CHANNEL_LAYERS`` backend.
"""

from __future__ import annotations

from importlib.metadata import version as _version

# First: refuses to load, saying how to fix it, under an old chanx 2.x install.
import chanx.core.namespace  # noqa: F401
from chanx.redis._layer import RedisChannelLayer
from chanx.redis._serializer import JsonSerializer, MsgpackSerializer, Serializer
from chanx.redis._stats import LossIncident, RedisLayerStats

__version__ = _version("chanx-redis")

__all__ = [
    "JsonSerializer",
    "LossIncident",
    "MsgpackSerializer",
    "RedisChannelLayer",
    "RedisLayerStats",
    "Serializer",
    "__version__",
]
