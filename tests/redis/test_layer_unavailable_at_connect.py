"""Redis out of memory or down when a socket connects: a refusal the client can retry."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core.layers import register_channel_layer, unregister_channel_layer
from chanx.redis import RedisChannelLayer
from chanx.testing import WebsocketCommunicator

from ._servers import RedisProcess, cli, free_port

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ALIAS = "unavailable-at-connect"


class Room(AsyncJsonWebsocketConsumer):
    channel_layer_alias = ALIAS
    groups = ["room"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(free_port(), tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.kill()


async def _connect_expecting_1013(caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        ws = WebsocketCommunicator(Room.as_asgi(), "/ws", timeout=20)
        assert (await ws.connect()).accepted  # accepted, so that a browser can read why
        assert (await ws.receive_json())["payload"]["code"] == "overloaded"
        closed = await ws.assert_closed(1013)
        await ws.disconnect()
        denied = WebsocketCommunicator(Room.as_asgi(reject_in_handshake=True), "/ws", timeout=20)
        result = await denied.connect()
        await denied.disconnect()
    assert "try again later" in closed["reason"]
    assert result.response_status == 503
    consumer_records = [r for r in caplog.records if r.name == "chanx.consumer"]
    assert [r.levelname for r in consumer_records] == ["WARNING", "WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(r.exc_info is None for r in consumer_records)


async def test_redis_out_of_memory_with_noeviction_refuses_with_1013(
    server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    cli(server.port, "debug", "populate", "3000", "filler", "1000")  # about 3 MB
    cli(server.port, "config", "set", "maxmemory-policy", "noeviction")
    cli(server.port, "config", "set", "maxmemory", "1mb")
    layer = register_channel_layer(
        ALIAS, RedisChannelLayer.from_url(f"redis://127.0.0.1:{server.port}/0")
    )
    try:
        await _connect_expecting_1013(caplog)
        message = next(r for r in caplog.records if r.name == "chanx.consumer").getMessage()
        assert "OOM" in message
        # once Redis has room again, the same client gets in
        cli(server.port, "config", "set", "maxmemory", "0")
        async with WebsocketCommunicator(Room.as_asgi(), "/ws", timeout=5) as ws:
            await ws.send_json({"action": "ping"})
            assert (await ws.receive_json())["action"] == "pong"
    finally:
        unregister_channel_layer(ALIAS)
        await layer.close()


async def test_redis_down_refuses_with_1013(
    server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    layer = register_channel_layer(
        ALIAS, RedisChannelLayer.from_url(f"redis://127.0.0.1:{server.port}/0", pool_timeout=2)
    )
    server.kill()
    try:
        await _connect_expecting_1013(caplog)
    finally:
        unregister_channel_layer(ALIAS)
        await layer.close()
