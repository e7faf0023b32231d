"""settings.CHANX: read per connection, validated, and the optional authentication frame."""

# mypy: disable-error-code="import-untyped"
# mypy: allow-untyped-decorators
from __future__ import annotations

import re
from typing import Any

import pytest
from channels.routing import URLRouter
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import path

from chanx.core import AuthResult, BaseAuthenticator, PingMessage, PongMessage, ws_handler
from chanx.core.types import Scope
from chanx.django import AsyncJsonWebsocketConsumer, chanx_settings
from chanx.testing import WebsocketCommunicator

from .conftest import MEMORY

TIMEOUT = 3.0

pytestmark = [
    pytest.mark.usefixtures("channel_layers"),
    pytest.mark.parametrize("layer_config", [MEMORY]),
]


class Named:
    pk = 7
    is_authenticated = True

    def get_username(self) -> str:
        return "alice"


class NameAuthenticator(BaseAuthenticator):
    async def authenticate(self, scope: Scope) -> AuthResult:
        if b"name=alice" in scope.get("query_string", b""):
            return AuthResult.allow(Named())
        return AuthResult.deny("who are you?")


class PingConsumer(AsyncJsonWebsocketConsumer):
    authenticator_class = NameAuthenticator

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


class ExplicitConsumer(PingConsumer):
    send_completion = False


app = URLRouter(
    [path("ping/", PingConsumer.as_asgi()), path("explicit/", ExplicitConsumer.as_asgi())]
)


def ws(path: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(app, path, timeout=TIMEOUT)


async def test_defaults_without_chanx_setting() -> None:
    async with ws("/ping/?name=alice") as c:
        await c.send_json({"action": "ping"})
        assert await c.receive_json() == {"action": "pong", "payload": None}
        assert await c.receive_nothing(0.05)


@override_settings(CHANX={"SEND_COMPLETION": True})
async def test_setting_applies_where_the_class_does_not_decide() -> None:
    async with ws("/ping/?name=alice") as c:
        await c.send_json({"action": "ping"})
        assert await c.receive_json() == {"action": "pong", "payload": None}
        assert await c.receive_json() == {"action": "complete", "payload": None}
    async with ws("/explicit/?name=alice") as c:
        await c.send_json({"action": "ping"})
        await c.receive_json()
        assert await c.receive_nothing(0.05)


async def test_authentication_message_when_enabled() -> None:
    with override_settings(CHANX={"SEND_AUTHENTICATION_MESSAGE": True}):
        async with ws("/ping/?name=alice") as c:
            frame = await c.receive_json()
            await c.send_json({"action": "ping"})
            assert await c.receive_json() == {"action": "pong", "payload": None}
    assert frame == {"action": "authenticated", "payload": {"user_id": 7, "username": "alice"}}


async def test_rejection_follows_the_auth_error_setting() -> None:
    with override_settings(CHANX={"SEND_AUTHENTICATION_MESSAGE": True, "SEND_AUTH_ERROR": False}):
        async with ws("/ping/") as c:
            await c.assert_closed(4401, reason="who are you?")


async def test_reject_in_handshake_from_settings() -> None:
    with override_settings(CHANX={"REJECT_IN_HANDSHAKE": True}):
        c = ws("/ping/")
        result = await c.connect()
        await c.disconnect()
    assert result.response_status == 401


def test_settings_are_read_when_used() -> None:
    assert chanx_settings().SEND_COMPLETION is False
    with override_settings(CHANX={"SEND_COMPLETION": True}):
        assert chanx_settings().SEND_COMPLETION is True
    assert chanx_settings().SEND_COMPLETION is False


@pytest.mark.parametrize(
    ("value", "message"),
    [({"SEND_COMPLETON": True}, "unknown keys ['SEND_COMPLETON']"), ([1], "must be a dict")],
)
def test_bad_settings_fail_the_system_check(value: Any, message: str) -> None:
    with override_settings(CHANX=value):
        errors = [e for e in run_checks() if e.id == "chanx.E001"]
        with pytest.raises((TypeError, ValueError), match=re.escape(message)):
            chanx_settings()
    assert len(errors) == 1
    assert message in errors[0].msg
