"""Session-authenticated sockets refuse cross-site pages by default (no origin validator)."""

from __future__ import annotations

import pytest
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from chanx.django import AsyncJsonWebsocketConsumer, DjangoAuthenticator
from chanx.testing import WebsocketCommunicator

from .conftest import MEMORY
from .project import PlainConsumer

pytestmark = [
    pytest.mark.usefixtures("channel_layers"),
    pytest.mark.parametrize("layer_config", [MEMORY]),
]


class Room(AsyncJsonWebsocketConsumer):
    groups = ["room"]


# No AllowedHostsOriginValidator in front: the consumer's own default must hold.
application = AuthMiddlewareStack(
    URLRouter(
        [
            path("ws/room/", Room.as_asgi()),
            path("ws/plain/<slug:slug>/", PlainConsumer.as_asgi()),  # a chanx.core consumer
        ]
    )
)


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("https://evil.example.org", False),
        ("null", False),
        ("http://testserver", True),  # same origin as the Host header
        ("https://testserver", True),  # in ALLOWED_HOSTS (and the Host, scheme aside)
        (None, True),  # not a browser
    ],
)
@pytest.mark.parametrize("route", ["/ws/room/", "/ws/plain/a/"])
async def test_session_middleware_makes_the_socket_same_origin_only(
    route: str, origin: str | None, accepted: bool
) -> None:
    headers = {"origin": origin} if origin else {}
    ws = WebsocketCommunicator(application, route, headers=headers, timeout=3)
    result = await ws.connect()
    await ws.disconnect()
    assert result.accepted is accepted
    if not accepted:
        assert result.close_code == 1008


def test_drf_session_authentication_reads_cookies() -> None:
    from rest_framework.authentication import SessionAuthentication, TokenAuthentication

    class Session(DjangoAuthenticator):
        authentication_classes = [SessionAuthentication]

    class TokenOnly(DjangoAuthenticator):
        authentication_classes = [TokenAuthentication]

    assert Session.reads_cookies()
    assert not TokenOnly.reads_cookies()
    assert DjangoAuthenticator.reads_cookies()  # DRF's defaults include the session


def test_a_consumer_without_middleware_or_cookie_auth_has_no_origin_rule() -> None:
    class Open(AsyncJsonWebsocketConsumer):
        pass

    consumer = Open()
    consumer.scope = {"type": "websocket", "headers": []}
    assert not consumer.uses_cookies()
