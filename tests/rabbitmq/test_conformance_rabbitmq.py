"""The layer conformance suite on chanx's RabbitMQ layer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from chanx.rabbitmq import RabbitMQChannelLayer
from chanx.testing.layers import ChannelLayerConformance

pytestmark = pytest.mark.rabbitmq


class TestRabbitMQLayer(ChannelLayerConformance):
    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self, amqp_url: str) -> AsyncIterator[RabbitMQChannelLayer]:
        layer = RabbitMQChannelLayer.from_url(
            amqp_url,
            prefix=f"test-{uuid.uuid4().hex[:8]}",
            capacity=10,
            expiry=1,
            group_expiry=1,
            queue_expiry=10,
        )
        await layer.flush()
        yield layer
        await layer.flush()
        await layer.close()
