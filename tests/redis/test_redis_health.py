"""check_channel_layer against a real Redis, and against an address where none listens."""

from __future__ import annotations

import socket

from chanx.core.layers import (
    check_channel_layer,
    register_channel_layer,
    unregister_channel_layer,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_redis_layer_round_trip(redis_url: str) -> None:
    layer = register_channel_layer("health-redis", redis_url)
    try:
        health = await check_channel_layer("health-redis", timeout=5)
        assert health.ok, health.error
        assert health.layer == "RedisChannelLayer"
    finally:
        unregister_channel_layer("health-redis")
        await layer.close()


async def test_unreachable_redis_is_reported_within_the_timeout(redis_url: str) -> None:
    layer = register_channel_layer("health-down", f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        health = await check_channel_layer(layer, timeout=0.5)
        assert not health.ok
        assert health.error is not None
    finally:
        unregister_channel_layer("health-down")
        await layer.close()
