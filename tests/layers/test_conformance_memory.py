from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chanx.core.layers import ChannelLayer, InMemoryChannelLayer
from chanx.testing.layers import ChannelLayerConformance


class TestInMemoryChannelLayer(ChannelLayerConformance):
    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self) -> AsyncIterator[ChannelLayer]:
        layer = InMemoryChannelLayer(capacity=10, expiry=1, group_expiry=1)
        yield layer
        await layer.flush()
        await layer.close()
