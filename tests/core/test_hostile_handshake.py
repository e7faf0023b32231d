"""Handshakes from hostile clients: origins, per-key limits, a failing channel layer."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    BaseAuthenticator,
    PingMessage,
    PongMessage,
    TokenAuthenticator,
    ws_handler,
)
from chanx.core.layers import InMemoryChannelLayer
from chanx.testing import WebsocketCommunicator

pytestmark = pytest.mark.usefixtures("memory_layer")


async def _verify(token: str) -> Any:
    return {"alice": "alice", "bob": "bob"}.get(token)


class CookieConsumer(AsyncJsonWebsocketConsumer):
    """TokenAuthenticator reads the ``token`` cookie too: a browser sends it cross-site."""

    groups = ["room"]
    authenticator_class = TokenAuthenticator.using(_verify)

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


class HeaderOnly(TokenAuthenticator):
    cookie = None

    async def verify_token(self, token: str) -> Any:
        return await _verify(token)


async def _handshake(app: Any, origin: str | None, host: str = "chat.example.com") -> Any:
    headers = [("host", host), ("cookie", "token=alice")]
    if origin is not None:
        headers.append(("origin", origin))
    ws = WebsocketCommunicator(app, "/ws", headers=headers)
    result = await ws.connect()
    await ws.disconnect()
    return result


@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        ("https://evil.example.org", "chat.example.com", False),
        ("null", "chat.example.com", False),
        ("https://chat.example.com.evil.org", "chat.example.com", False),
        ("https://chat.example.com:8443", "chat.example.com", False),
        ("https://chat.example.com", "chat.example.com", True),  # same origin by Host
        ("https://CHAT.example.com", "chat.example.com:443", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://[::1]:8000", "[::1]:8001", False),
        ("https://chat.example.com:99999", "chat.example.com", False),  # malformed port
        ("chat.example.com", "chat.example.com", False),  # not an origin
        (None, "chat.example.com", True),  # no Origin: not a browser
    ],
)
async def test_cookie_auth_refuses_cross_origin_by_default(
    origin: str | None, host: str, accepted: bool
) -> None:
    result = await _handshake(CookieConsumer.as_asgi(), origin, host)
    assert result.accepted is accepted
    if not accepted:
        assert result.close_code == 1008


async def test_a_cross_origin_refusal_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="chanx"):
        await _handshake(CookieConsumer.as_asgi(), "https://evil.example.org")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "evil.example.org" in records[0].getMessage()
    assert records[0].exc_info is None


async def test_allowed_origins_star_opts_out() -> None:
    result = await _handshake(CookieConsumer.as_asgi(allowed_origins=["*"]), "https://x.org")
    assert result.accepted


async def test_allowed_origins_list_replaces_the_same_origin_rule() -> None:
    app = CookieConsumer.as_asgi(allowed_origins=["https://app.example.com"])
    assert (await _handshake(app, "https://app.example.com")).accepted
    assert not (await _handshake(app, "https://evil.example.org")).accepted


async def test_header_or_query_authentication_is_not_origin_checked() -> None:
    app = CookieConsumer.as_asgi(authenticator_class=HeaderOnly)
    ws = WebsocketCommunicator(
        app, "/ws?token=alice", headers=[("origin", "https://other.example.org")]
    )
    async with ws:
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


def test_reads_cookies_follows_the_credentials() -> None:
    assert TokenAuthenticator.reads_cookies()
    assert not HeaderOnly.reads_cookies()
    assert not BaseAuthenticator.reads_cookies()


# -- per-key connection limits ---------------------------------------------------------


class PerKey(AsyncJsonWebsocketConsumer):
    authenticator_class = TokenAuthenticator.using(_verify)
    max_connections = 4
    max_connections_per_key = 2

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


async def test_one_user_cannot_lock_others_out() -> None:
    app = PerKey.as_asgi()
    opened = []
    try:
        for _ in range(2):
            ws = WebsocketCommunicator(app, "/ws?token=alice")
            assert (await ws.connect()).accepted
            opened.append(ws)
        third = WebsocketCommunicator(app, "/ws?token=alice")
        await third.connect()
        assert (await third.receive_json())["payload"]["code"] == "overloaded"
        closed = await third.assert_closed(1013)
        assert "too many connections" in closed["reason"]
        await third.disconnect()
        async with WebsocketCommunicator(app, "/ws?token=bob") as other:
            await other.send_json({"action": "ping"})
            assert (await other.receive_json())["action"] == "pong"
    finally:
        for ws in opened:
            await ws.disconnect()
    # slots are given back: alice may connect again
    async with WebsocketCommunicator(app, "/ws?token=alice") as again:
        await again.send_json({"action": "ping"})
        assert (await again.receive_json())["action"] == "pong"


class PerAddress(AsyncJsonWebsocketConsumer):
    max_connections_per_key = 1

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


async def test_anonymous_clients_are_counted_by_address() -> None:
    app = PerAddress.as_asgi()
    async with WebsocketCommunicator(app, "/ws") as first:
        same = WebsocketCommunicator(app, "/ws")  # the same client address
        await same.connect()
        assert (await same.receive_json())["payload"]["code"] == "overloaded"
        await same.assert_closed(1013)
        await same.disconnect()
        elsewhere = WebsocketCommunicator(app, "/ws")
        elsewhere.scope["client"] = ("203.0.113.9", 41000)
        async with elsewhere:
            await elsewhere.send_json({"action": "ping"})
            assert (await elsewhere.receive_json())["action"] == "pong"
        await first.send_json({"action": "ping"})
        assert (await first.receive_json())["action"] == "pong"


class ByTenant(PerAddress):
    def connection_key(self) -> Any:
        return self.scope["headers"][0][1]  # any hashable: here, the Host header


async def test_connection_key_is_overridable() -> None:
    app = ByTenant.as_asgi()
    async with WebsocketCommunicator(app, "/ws", headers=[("host", "a.example")]):
        b = WebsocketCommunicator(app, "/ws", headers=[("host", "b.example")])
        assert (await b.connect()).accepted
        await b.disconnect()
        a2 = WebsocketCommunicator(app, "/ws", headers=[("host", "a.example")])
        await a2.connect()
        assert (await a2.receive_json())["payload"]["code"] == "overloaded"
        await a2.assert_closed(1013)
        await a2.disconnect()


# -- the channel layer fails at connect time -------------------------------------------


class BrokenLayer(InMemoryChannelLayer):
    async def group_add(self, group: str, channel: str) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


class Roomed(AsyncJsonWebsocketConsumer):
    groups = ["room"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


async def test_a_failing_layer_gives_a_retryable_refusal_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from chanx.core.layers import register_channel_layer, unregister_channel_layer

    register_channel_layer("broken", BrokenLayer())
    try:
        with caplog.at_level(logging.DEBUG, logger="chanx"):
            ws = WebsocketCommunicator(Roomed.as_asgi(channel_layer_alias="broken"), "/ws")
            assert (await ws.connect()).accepted  # so that a browser can read why
            assert (await ws.receive_json())["payload"]["code"] == "overloaded"
            closed = await ws.assert_closed(1013)
            await ws.disconnect()
            denied = WebsocketCommunicator(
                Roomed.as_asgi(channel_layer_alias="broken", reject_in_handshake=True), "/ws"
            )
            result = await denied.connect()
            await denied.disconnect()
    finally:
        unregister_channel_layer("broken")
    assert "try again later" in closed["reason"]
    assert result.response_status == 503
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in records] == ["WARNING", "WARNING"]
    assert all(r.exc_info is None for r in records)
    assert "Connection refused" in records[0].getMessage()
