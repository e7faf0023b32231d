"""One consumer class written against chanx.core, served by Django and Starlette at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.layers import get_channel_layer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from chanx.core import event_handler, register_channel_layer
from chanx.core.layers import ChannelLayer, InMemoryChannelLayer, unregister_channel_layer
from chanx.fastapi import AsyncJsonWebsocketConsumer as FastAPIConsumer
from chanx.testing import WebsocketCommunicator

from .conftest import MEMORY
from .project import PlainConsumer, UserJoinedEvent, UserJoinedMessage, application

TIMEOUT = 3.0

pytestmark = [
    pytest.mark.usefixtures("channel_layers"),
    pytest.mark.parametrize("layer_config", [MEMORY]),
]


@pytest.fixture
def chanx_layer() -> Iterator[ChannelLayer]:
    layer = register_channel_layer("default", InMemoryChannelLayer())
    yield layer
    unregister_channel_layer("default")


starlette_app = Starlette(routes=[WebSocketRoute("/ws/plain/{slug}", PlainConsumer.as_asgi())])


async def test_one_consumer_class_under_django_and_starlette(chanx_layer: ChannelLayer) -> None:
    django_ws = WebsocketCommunicator(
        application, "/ws/plain/a/", headers={"origin": "http://testserver"}, timeout=TIMEOUT
    )
    starlette_ws = WebsocketCommunicator(starlette_app, "/ws/plain/a", timeout=TIMEOUT)
    async with django_ws, starlette_ws:
        for ws in (django_ws, starlette_ws):
            await ws.send_json({"action": "ping"})
            assert await ws.receive_json() == {"action": "pong", "payload": None}

        # Each connection joined "plain" on its own framework's layer.
        await django_ws.send_json({"action": "chat", "payload": {"text": "from django"}})
        frame = await django_ws.receive_json()
        assert frame["payload"]["text"] == "from django"
        assert await starlette_ws.receive_nothing(0.2)

        await get_channel_layer().group_send("plain", {"type": "user_joined", "username": "dj"})
        await chanx_layer.group_send("plain", {"type": "user_joined", "username": "st"})
        assert await django_ws.receive_json() == {"action": "user_joined", "payload": "dj"}
        assert await starlette_ws.receive_json() == {"action": "user_joined", "payload": "st"}


def test_layer_is_resolved_per_scope(chanx_layer: ChannelLayer) -> None:
    django_scope = {"type": "websocket", "url_route": {"args": (), "kwargs": {"slug": "a"}}}
    starlette_scope = {"type": "websocket", "path_params": {"slug": "a"}}
    assert PlainConsumer.get_layer(django_scope) is get_channel_layer()
    assert PlainConsumer.get_layer(starlette_scope) is chanx_layer


class FastAPIRoomConsumer(FastAPIConsumer):
    groups = ["room"]

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> UserJoinedMessage:
        return UserJoinedMessage(payload=event.username)


@pytest.fixture
def nothing_registered() -> Iterator[None]:
    saved = unregister_channel_layer("default")
    yield
    unregister_channel_layer("default")
    if saved is not None:
        register_channel_layer("default", saved)


@pytest.mark.usefixtures("nothing_registered")
async def test_fastapi_class_level_sends_stay_on_chanx_layers() -> None:
    # Django is configured (CHANNEL_LAYERS names "default") and Chanx's registry holds
    # nothing yet, so both frameworks fall back to their own default. A FastAPI
    # consumer's class-level broadcast must reach its connections, not Django's layer.
    assert FastAPIRoomConsumer.get_layer() is not get_channel_layer()
    app = Starlette(routes=[WebSocketRoute("/ws/room", FastAPIRoomConsumer.as_asgi())])
    async with WebsocketCommunicator(app, "/ws/room", timeout=TIMEOUT) as ws:
        await FastAPIRoomConsumer.broadcast_event(UserJoinedEvent(username="ann"))
        assert await ws.receive_json() == {"action": "user_joined", "payload": "ann"}
