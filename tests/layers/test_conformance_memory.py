from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from chanx.core.layers import ChannelFull, ChannelLayer, InMemoryChannelLayer
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


class _FullBlocksSuite(ChannelLayerConformance):
    """A suite for a layer whose ``send`` waits while the channel is full (not collected)."""

    capacity = 2
    test_timeout = 0.5


class _BlockingWhenFull(InMemoryChannelLayer):
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        while True:
            try:
                return await super().send(channel, message)
            except ChannelFull:
                await asyncio.sleep(0.01)  # a backend that waits for room, forever


async def test_a_layer_that_blocks_fails_the_test_instead_of_hanging() -> None:
    suite = _FullBlocksSuite()
    with anyio.fail_after(5), pytest.raises(TimeoutError):
        await suite.test_send_raises_channel_full_at_capacity(_BlockingWhenFull(capacity=2))
