"""The FastAPI chat demo on RabbitMQ: the same app, only CHANX_LAYER_URL changes."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import anyio
import httpx
import pytest

from chanx.core.layers import (
    lookup_channel_layer,
    register_channel_layer,
    unregister_channel_layer,
)
from chanx.testing import WebsocketCommunicator

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 5.0

pytestmark = pytest.mark.rabbitmq


async def test_the_demo_chats_and_notifies_through_rabbitmq(
    amqp_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("CHANX_LAYER_URL", f"{amqp_url}?prefix=test-demo-{uuid.uuid4().hex[:8]}")
    app = importlib.import_module("examples.chat.app").app
    previous = unregister_channel_layer("default")
    try:
        async with app.router.lifespan_context(app):
            layer = lookup_channel_layer("default")
            assert type(layer).__module__.startswith("chanx.rabbitmq")
            alice = WebsocketCommunicator(app, "/ws/chat/lobby?token=alice", timeout=TIMEOUT)
            bob = WebsocketCommunicator(app, "/ws/chat/lobby?token=bob", timeout=TIMEOUT)
            inbox = WebsocketCommunicator(app, "/ws/notifications?token=bob", timeout=TIMEOUT)
            assert await alice.connect()
            assert (await alice.receive_json())["payload"]["status"] == "joined"
            assert await bob.connect()
            assert (await bob.receive_json())["payload"]["username"] == "bob"
            assert (await alice.receive_json())["payload"]["username"] == "bob"
            assert await inbox.connect()

            await bob.send_json({"action": "chat", "payload": {"text": "over amqp"}})
            for ws in (alice, bob):
                frame = await ws.receive_json()
                assert frame["action"] == "chat_message"
                assert frame["payload"]["text"] == "over amqp"

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                with anyio.fail_after(TIMEOUT):
                    sent = await http.post("/api/notify/bob", json={"text": "mail"})
            assert sent.status_code == 202
            assert (await inbox.receive_json())["payload"]["text"] == "mail"
            for ws in (inbox, bob, alice):
                await ws.disconnect()
    finally:
        unregister_channel_layer("default")
        if previous is not None:
            register_channel_layer("default", previous)
