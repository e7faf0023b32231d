"""check_channel_layer: one message through the layer and back, failures reported."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from chanx.core.layers import InMemoryChannelLayer, LayerHealth, check_channel_layer


async def test_memory_layer_is_healthy(memory_layer: InMemoryChannelLayer) -> None:
    health = await check_channel_layer()
    assert health.ok, health
    assert health.layer == "InMemoryChannelLayer"
    assert health.latency is not None
    assert 0 <= health.latency < 2
    assert health.as_dict() == {
        "ok": True,
        "layer": "InMemoryChannelLayer",
        "latency": health.latency,
        "error": None,
    }
    assert (await check_channel_layer(memory_layer)).ok  # an instance instead of an alias


class _SilentLayer(InMemoryChannelLayer):
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        return None  # accepted, never delivered


class _BrokenLayer(InMemoryChannelLayer):
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        raise ConnectionRefusedError("backend is down")


async def test_a_layer_that_loses_the_probe_times_out(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="chanx.layers"):
        health = await check_channel_layer(_SilentLayer(), timeout=0.05)
    assert not health.ok
    assert health.latency is None
    assert health.error == "TimeoutError: no reply within 0.05 s"
    assert "health check failed (_SilentLayer)" in caplog.text


async def test_a_raising_layer_is_reported_not_raised() -> None:
    health = await check_channel_layer(_BrokenLayer())
    assert health == LayerHealth(
        False, "_BrokenLayer", error="ConnectionRefusedError: backend is down"
    )


async def test_unknown_alias_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no-such-alias"):
        await check_channel_layer("no-such-alias")


async def test_a_late_probe_of_an_earlier_check_is_skipped() -> None:
    layer = _StallingLayer()
    assert not (await check_channel_layer(layer, timeout=0.05)).ok  # its probe stays queued
    layer.stalled = False
    health = await check_channel_layer(layer)
    assert health.ok, health.error


class _StallingLayer(InMemoryChannelLayer):
    """Accepts sends but hangs in receive while ``stalled``."""

    stalled = True

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.stalled:
            await anyio.sleep_forever()
        return await super().receive(channel)
