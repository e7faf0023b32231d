"""The seed's scenarios under Channels routing, on every layer backend.

Backends: Channels' in-memory layer, Chanx's in-memory layer named as a CHANNEL_LAYERS
BACKEND, and channels_redis (Redis from the ``redis_url`` fixture).
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient, Client

from chanx.testing import WebsocketCommunicator

from .conftest import MEMORY
from .project import (
    ChatConsumer,
    NotificationConsumer,
    UserJoinedEvent,
    application,
)

TIMEOUT = 3.0
ORIGIN = {"origin": "http://testserver"}

pytestmark = pytest.mark.usefixtures("channel_layers")


def communicator(path: str, **kwargs: Any) -> WebsocketCommunicator:
    headers = {**ORIGIN, **kwargs.pop("headers", {})}
    return WebsocketCommunicator(application, path, headers=headers, timeout=TIMEOUT, **kwargs)


async def test_ping_pong() -> None:
    async with communicator("/ws/chat/1/") as ws:
        await ws.send_json({"action": "ping"})
        assert await ws.receive_json() == {"action": "pong", "payload": None}


async def test_url_kwargs_reach_the_consumer() -> None:
    async with communicator("/ws/chat/42/") as ws:
        await ws.send_json({"action": "chat", "payload": {"text": "hi"}})
        reply = await ws.receive_json()
    assert reply == {"action": "chat_message", "payload": {"room_id": 42, "text": "hi"}}


async def test_room_broadcast_reaches_the_room_only() -> None:
    async with (
        communicator("/ws/chat/1/") as alice,
        communicator("/ws/chat/1/") as bob,
        communicator("/ws/chat/2/") as carol,
    ):
        await alice.send_json({"action": "chat", "payload": {"text": "hello room 1"}})
        expected = {"action": "chat_message", "payload": {"room_id": 1, "text": "hello room 1"}}
        assert await alice.receive_json() == expected
        assert await bob.receive_json() == expected
        assert await carol.receive_nothing(0.2)


async def test_raw_dict_event_from_sync_code_reaches_the_event_handler() -> None:
    def celery_style_task() -> None:
        layer = get_channel_layer()
        async_to_sync(layer.group_send)("room_7", {"type": "user_joined", "username": "alice"})

    async with communicator("/ws/chat/7/") as ws:
        with anyio.fail_after(TIMEOUT):
            await sync_to_async(celery_style_task)()
        assert await ws.receive_json() == {"action": "user_joined", "payload": "alice"}


async def test_typed_sync_sender_reaches_the_event_handler() -> None:
    async with communicator("/ws/chat/8/") as ws:
        send = sync_to_async(ChatConsumer.broadcast_event_sync)
        with anyio.fail_after(TIMEOUT):
            await send(UserJoinedEvent(username="bob"), "room_8")
        assert await ws.receive_json() == {"action": "user_joined", "payload": "bob"}


def _login(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


@pytest.mark.parametrize("view", ["notify", "notify-typed"])
async def test_view_notifies_the_logged_in_user(user_factory: Any, view: str) -> None:
    alice, bob = (
        await sync_to_async(user_factory)("alice"),
        await sync_to_async(user_factory)("bob"),
    )
    alice_cookie = await sync_to_async(_login)(alice)
    bob_cookie = await sync_to_async(_login)(bob)
    async with (
        communicator("/ws/notifications/", headers={"cookie": f"sessionid={alice_cookie}"}) as a,
        communicator("/ws/notifications/", headers={"cookie": f"sessionid={bob_cookie}"}) as b,
    ):
        with anyio.fail_after(TIMEOUT):
            response = await AsyncClient().post(
                f"/{view}/{alice.pk}/", json.dumps({"text": "you have mail"}), "application/json"
            )
        assert response.status_code == 200
        assert await a.receive_json() == {"action": "notification", "payload": "you have mail"}
        assert await b.receive_nothing(0.2)


async def test_anonymous_user_is_rejected_before_joining_groups() -> None:
    async with communicator("/ws/notifications/") as ws:
        error = await ws.receive_json()
        await ws.assert_closed(4401)
    assert error["payload"]["code"] == "unauthenticated"


# Channels' own WebsocketDenier answers here: with channels_redis it waits out the pending
# Redis read (DESIGN §9), which is not what this test is about.
@pytest.mark.parametrize("layer_config", [MEMORY])
async def test_origin_validator_still_applies() -> None:
    ws = communicator("/ws/chat/1/", headers={"origin": "http://evil.example"})
    result = await ws.connect()
    assert not result.accepted
    await ws.disconnect()


async def test_notification_consumer_layer_is_the_django_one() -> None:
    layer = NotificationConsumer.get_layer()
    assert layer is get_channel_layer()
