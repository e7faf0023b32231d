"""A plain Django Channels consumer runs on chanx's Redis layer as its CHANNEL_LAYERS backend."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import uuid
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(INSTALLED_APPS=["channels"], SECRET_KEY="chanx-tests-only")
    django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test.utils import override_settings

from chanx.redis import RedisChannelLayer

pytestmark = pytest.mark.redis


class RoomConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        await self.channel_layer.group_add("interop-room", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("interop-room", self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.channel_layer.group_send("interop-room", {"type": "room.say", **content})

    async def room_say(self, event: dict[str, Any]) -> None:
        await self.send_json({"said": event["text"]})


async def test_channels_consumer_on_chanx_redis_layer(redis_url: str) -> None:
    prefix = f"interop-{uuid.uuid4().hex[:8]}"
    backend = {
        "BACKEND": "chanx.redis.RedisChannelLayer",
        "CONFIG": {"hosts": [redis_url], "prefix": prefix, "capacity": 50},
    }
    outside = RedisChannelLayer([redis_url], prefix=prefix)
    with override_settings(CHANNEL_LAYERS={"default": backend}):
        layer = get_channel_layer()
        assert isinstance(layer, RedisChannelLayer)
        assert layer.capacity == 50
        communicator = WebsocketCommunicator(RoomConsumer.as_asgi(), "/ws/room/")
        try:
            connected, _ = await communicator.connect(timeout=5)
            assert connected
            # From outside the consumer's process, as a Django view or a worker would.
            await outside.group_send("interop-room", {"type": "room.say", "text": "from outside"})
            assert await communicator.receive_json_from(timeout=5) == {"said": "from outside"}
            # And through the consumer's own use of the layer.
            await communicator.send_json_to({"text": "round trip"})
            assert await communicator.receive_json_from(timeout=5) == {"said": "round trip"}
            await communicator.disconnect(timeout=5)
        finally:
            await layer.flush()
            await layer.close()
            await outside.close()
