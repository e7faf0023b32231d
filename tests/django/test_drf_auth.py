"""DjangoAuthenticator: DRF authentication, permissions and object permissions."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings

from chanx.testing import WebsocketCommunicator

from .conftest import MEMORY, require_drf

TIMEOUT = 3.0

pytestmark = [
    pytest.mark.usefixtures("channel_layers"),
    pytest.mark.parametrize("layer_config", [MEMORY]),
]


@pytest.fixture(autouse=True)
def drf() -> Any:
    require_drf()
    from . import drf_project

    return drf_project


def make_token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return str(Token.objects.create(user=user).key)


@pytest.fixture
def alice(user_factory: Any) -> tuple[Any, str]:
    user = user_factory("alice")
    return user, make_token(user)


def ws(drf: Any, path: str, **kwargs: Any) -> WebsocketCommunicator:
    return WebsocketCommunicator(drf.application, path, timeout=TIMEOUT, **kwargs)


async def whoami(communicator: WebsocketCommunicator) -> dict[str, Any]:
    await communicator.send_json({"action": "whoami"})
    frame = await communicator.receive_json()
    assert frame["action"] == "identity", frame
    return dict(frame["payload"])


async def test_token_in_header_authenticates(drf: Any, alice: tuple[Any, str]) -> None:
    user, token = alice
    async with ws(drf, "/ws/token/", headers={"authorization": f"Token {token}"}) as c:
        identity = await whoami(c)
    assert identity == {"username": user.username, "authenticated": True, "room": None}


async def test_token_in_query_string_authenticates(drf: Any, alice: tuple[Any, str]) -> None:
    user, token = alice
    async with ws(drf, f"/ws/token/?token={token}") as c:
        assert (await whoami(c))["username"] == user.username


async def test_missing_credentials_close_with_4401(drf: Any) -> None:
    async with ws(drf, "/ws/token/") as c:
        error = await c.receive_json()
        close = await c.assert_closed(4401)
    assert error["payload"]["code"] == "unauthenticated"
    assert "credentials were not provided" in close["reason"]


async def test_bad_token_closes_with_4401(drf: Any) -> None:
    async with ws(drf, "/ws/token/", headers={"authorization": "Token nope"}) as c:
        await c.receive_json()
        close = await c.assert_closed(4401)
    assert close["reason"] == "Invalid token."


async def test_session_from_auth_middleware_stack(drf: Any, user_factory: Any) -> None:
    user = await sync_to_async(user_factory)("bob")

    def login() -> str:
        client = Client()
        client.force_login(user)
        return str(client.cookies["sessionid"].value)

    cookie = await sync_to_async(login)()
    async with ws(drf, "/ws/token/", headers={"cookie": f"sessionid={cookie}"}) as c:
        assert (await whoami(c))["username"] == user.username


async def test_object_permission_allows_a_member(drf: Any, alice: tuple[Any, str]) -> None:
    from django.contrib.auth.models import Group

    user, token = alice
    room = await Group.objects.acreate(name=f"room-{user.pk}")
    await sync_to_async(room.user_set.add)(user)
    headers = {"authorization": f"Token {token}"}
    async with ws(drf, f"/ws/rooms/{room.pk}/", headers=headers) as c:
        assert (await whoami(c))["room"] == room.name
    await room.adelete()


async def test_object_permission_refuses_a_non_member_with_4403(
    drf: Any, alice: tuple[Any, str]
) -> None:
    from django.contrib.auth.models import Group

    user, token = alice
    room = await Group.objects.acreate(name=f"closed-{user.pk}")
    headers = {"authorization": f"Token {token}"}
    async with ws(drf, f"/ws/rooms/{room.pk}/", headers=headers) as c:
        error = await c.receive_json()
        close = await c.assert_closed(4403)
    assert error["payload"] == {"code": "forbidden", "detail": "You are not a member of this room."}
    assert close["reason"] == "You are not a member of this room."
    await room.adelete()


async def test_missing_object_closes_with_4403(drf: Any, alice: tuple[Any, str]) -> None:
    _, token = alice
    headers = {"authorization": f"Token {token}"}
    async with ws(drf, "/ws/rooms/999999/", headers=headers) as c:
        await c.receive_json()
        await c.assert_closed(4403, reason="Not found.")


async def test_unauthenticated_before_object_lookup_is_4401(drf: Any) -> None:
    async with ws(drf, "/ws/rooms/1/") as c:
        await c.receive_json()
        await c.assert_closed(4401)


async def test_rest_framework_defaults_apply(drf: Any) -> None:
    # DRF's own defaults: session + basic authentication, AllowAny.
    async with ws(drf, "/ws/defaults/") as c:
        assert (await whoami(c))["authenticated"] is False

    strict = {
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }
    with override_settings(REST_FRAMEWORK=strict):
        async with ws(drf, "/ws/defaults/") as c:
            await c.receive_json()
            await c.assert_closed(4401)


async def test_rejected_socket_joins_no_group(drf: Any) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    async with ws(drf, "/ws/token/") as c:
        await c.receive_json()
        await c.assert_closed(4401)
    assert not getattr(layer, "groups", {})


def test_consumer_level_options_build_an_authenticator(drf: Any) -> None:
    from rest_framework.authentication import TokenAuthentication

    from chanx.django import DjangoAuthenticator

    auth = drf.TokenConsumer.authenticator_class
    assert issubclass(auth, DjangoAuthenticator)
    assert TokenAuthentication in auth.authentication_classes
    assert [c.location for c in auth.credentials] == ["cookie", "header", "query"]


def test_authenticator_and_drf_options_together_are_refused(drf: Any) -> None:
    from chanx.django import AsyncJsonWebsocketConsumer, DjangoAuthenticator

    with pytest.raises(TypeError, match="authenticator_class and"):

        class Both(AsyncJsonWebsocketConsumer):
            authenticator_class = DjangoAuthenticator
            permission_classes = []
