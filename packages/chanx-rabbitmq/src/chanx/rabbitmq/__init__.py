"""A RabbitMQ channel layer for Chanx and Django Channels.

Install with ``pip install chanx-rabbitmq``. The package registers the ``amqp://`` and
``amqps://`` layer URL schemes, so ``register_channel_layer("default",
"amqp://guest:guest@127.0.0.1:5672/")`` finds it; under Django, name
``"chanx.rabbitmq.RabbitMQChannelLayer"`` as the ``CHANNEL_LAYERS`` backend with
``"CONFIG": {"url": "amqp://..."}``.
"""

from __future__ import annotations

import sys
from importlib.metadata import version as _version

# First: under an old chanx 2.x install (``chanx`` is then a regular package, with a file)
# chanx.core.namespace refuses to load, saying how to fix it. Only then: chanx.core is
# not imported for nothing.
if getattr(sys.modules["chanx"], "__file__", None) is not None:
    import chanx.core.namespace  # noqa: F401
from chanx.rabbitmq._layer import RabbitMQChannelLayer
from chanx.rabbitmq._stats import RabbitMQLayerStats

__version__ = _version("chanx-rabbitmq")

__all__ = ["RabbitMQChannelLayer", "RabbitMQLayerStats", "__version__"]
