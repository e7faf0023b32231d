"""A RabbitMQ channel layer for Chanx and Django Channels.

Install with ``pip install chanx-rabbitmq``. The package registers the ``amqp://`` and
``amqps://`` layer URL schemes, so ``register_channel_layer("default",
"amqp://guest:guest@127.0.0.1:5672/")`` finds it; under Django, name
``"chanx.rabbitmq.RabbitMQChannelLayer"`` as the ``CHANNEL_LAYERS`` backend with
``"CONFIG": {"url": "amqp://..."}``.
"""

from __future__ import annotations

from importlib.metadata import version as _version

# First: refuses to load, saying how to fix it, under an old chanx 2.x install.
import chanx.core.namespace  # noqa: F401
from chanx.rabbitmq._layer import RabbitMQChannelLayer
from chanx.rabbitmq._stats import RabbitMQLayerStats

__version__ = _version("chanx-rabbitmq")

__all__ = ["RabbitMQChannelLayer", "RabbitMQLayerStats", "__version__"]
