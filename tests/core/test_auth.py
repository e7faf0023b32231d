"""Authentication runs before accept; a rejected socket never reaches a handler or a group."""

from __future__ import annotations

import logging

import pytest

from chanx.core import AsyncJsonWebsocketConsumer, AuthResult, BaseAuthenticator, TokenAuthenticator
from chanx.core.layers import InMemoryChannelLayer
from chanx.core.types import Scope
from chanx.testing import WebsocketCommunicator
from tests.core.consumers import AuthConsumer


async def test_no_token_closes_4401_and_joins_no_group(memory_layer: InMemoryChannelLayer) -> None:
    ws = WebsocketCommunicator(AuthConsumer.as_asgi(), "/ws")
    result = await ws.connect()
    assert result.accepted  # accepted so the browser can read the close code and reason
    error = await ws.receive_json()
    assert error["payload"]["code"] == "unauthenticated"
    closed = await ws.assert_closed(4401)
    assert "not provided" in closed["reason"]
    assert memory_layer._groups == {}  # nothing ever joined
    await ws.disconnect()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/ws?token=wrong", None),
        ("/ws", [("authorization", "Bearer wrong")]),
        ("/ws", [("cookie", "token=wrong")]),
    ],
)
async def test_bad_token_closes_4401(
    memory_layer: InMemoryChannelLayer, path: str, headers: list[tuple[str, str]] | None
) -> None:
    ws = WebsocketCommunicator(AuthConsumer.as_asgi(), path, headers=headers)
    await ws.connect()
    await ws.receive_json()
    closed = await ws.assert_closed(4401)
    assert closed["reason"] == "invalid token"
    await ws.disconnect()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/ws?token=good-token", None),
        ("/ws", [("Authorization", "Bearer good-token")]),
        ("/ws", [("Cookie", "theme=dark; token=good-token")]),
    ],
)
async def test_good_token_user_reaches_handlers(
    memory_layer: InMemoryChannelLayer, path: str, headers: list[tuple[str, str]] | None
) -> None:
    async with WebsocketCommunicator(AuthConsumer.as_asgi(), path, headers=headers) as ws:
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


class Forbidding(BaseAuthenticator):
    async def authenticate(self, scope: Scope) -> AuthResult:
        return AuthResult.deny("members only", forbidden=True)


class Exploding(BaseAuthenticator):
    async def authenticate(self, scope: Scope) -> AuthResult:
        raise RuntimeError("db password is hunter2")


class Guarded(AsyncJsonWebsocketConsumer):
    authenticator_class = Forbidding
    channel_layer_alias = None


async def test_forbidden_closes_4403() -> None:
    async with WebsocketCommunicator(Guarded.as_asgi(), "/ws") as ws:
        assert (await ws.receive_json())["payload"] == {
            "code": "forbidden",
            "detail": "members only",
        }
        await ws.assert_closed(4403)


async def test_raising_authenticator_closes_1011_and_leaks_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Guarded.as_asgi(authenticator_class=Exploding)
    with caplog.at_level(logging.ERROR):
        async with WebsocketCommunicator(app, "/ws") as ws:
            closed = await ws.assert_closed(1011)
    assert "hunter2" not in closed["reason"]
    assert "hunter2" in caplog.text


async def test_reject_in_handshake_uses_http_response() -> None:
    app = Guarded.as_asgi(reject_in_handshake=True)
    ws = WebsocketCommunicator(app, "/ws")
    result = await ws.connect()
    assert not result.accepted
    assert result.response_status == 403
    assert result.response_body == b"members only"


async def test_error_frame_can_be_switched_off() -> None:
    async with WebsocketCommunicator(Guarded.as_asgi(send_auth_error=False), "/ws") as ws:
        await ws.assert_closed(4403)


def test_token_authenticator_credentials_follow_options() -> None:
    class HeaderOnly(TokenAuthenticator):
        query_param = None
        cookie = None

    assert [(c.name, c.location) for c in HeaderOnly.credentials] == [("authorization", "header")]
    assert [c.location for c in TokenAuthenticator.credentials] == ["query", "header", "cookie"]
