"""The layer conformance suite on chanx's Redis layer, and on channels_redis for fairness."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chanx.core.layers.redis import RedisChannelLayer
from chanx.testing.layers import ChannelLayerConformance

pytestmark = pytest.mark.redis


class TestRedisLayer(ChannelLayerConformance):
    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self, redis_url: str) -> AsyncIterator[Any]:
        layer = RedisChannelLayer.from_url(
            redis_url,
            prefix=f"test-{uuid.uuid4().hex[:8]}",
            capacity=10,
            expiry=1,
            group_expiry=1,
        )
        await layer.flush()
        yield layer
        await layer.flush()
        await layer.close()


class TestRedisLayerJson(TestRedisLayer):
    @pytest.fixture
    async def layer(self, redis_url: str) -> AsyncIterator[Any]:
        layer = RedisChannelLayer(
            [redis_url],
            prefix=f"test-{uuid.uuid4().hex[:8]}",
            capacity=10,
            expiry=1,
            group_expiry=1,
            serializer="json",
        )
        yield layer
        await layer.flush()
        await layer.close()
