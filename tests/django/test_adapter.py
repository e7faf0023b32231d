"""The ``chanx.adapters`` entry point: detection per scope, layers, routes, lazy imports."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.test import override_settings
from django.urls import path, re_path

from chanx.core.adapters import load_adapters
from chanx.django._adapter import DjangoAdapter
from chanx.django._routes import pattern_template

from .conftest import MEMORY
from .project import ChatConsumer, PlainConsumer, application


def test_the_adapter_is_registered_as_an_entry_point() -> None:
    assert any(isinstance(adapter, DjangoAdapter) for adapter in load_adapters())


def test_handles_scopes_routed_by_channels_only() -> None:
    adapter = DjangoAdapter()
    assert adapter.handles_scope({"type": "websocket", "url_route": {"args": (), "kwargs": {}}})
    assert not adapter.handles_scope({"type": "websocket", "path_params": {"room": "a"}})
    assert not adapter.handles_scope({"type": "websocket", "user": object()})


def test_handles_scope_with_the_channels_lazy_user() -> None:
    from channels.auth import UserLazyObject

    assert DjangoAdapter().handles_scope({"type": "websocket", "user": UserLazyObject()})


def test_layer_alias_resolves_through_channel_layers() -> None:
    adapter = DjangoAdapter()
    with override_settings(CHANNEL_LAYERS={"default": MEMORY}):
        layer = adapter.get_channel_layer("default")
        assert layer is get_channel_layer("default")
        assert adapter.get_channel_layer("missing") is None
        assert PlainConsumer.get_layer({"url_route": {}}) is layer
        assert ChatConsumer.get_layer() is layer
    with override_settings(CHANNEL_LAYERS={}):
        assert adapter.get_channel_layer("default") is None


def test_chanx_layer_can_be_the_channels_backend() -> None:
    from chanx.core.layers import InMemoryChannelLayer

    config = {"BACKEND": "chanx.core.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 5}}
    with override_settings(CHANNEL_LAYERS={"default": config}):
        layer = DjangoAdapter().get_channel_layer("default")
    assert isinstance(layer, InMemoryChannelLayer)


def test_websocket_routes_through_middleware() -> None:
    adapter = DjangoAdapter()
    assert adapter.handles_app(application)
    assert not adapter.handles_app(object())
    routes = {route.path: route for route in adapter.websocket_routes(application)}
    chat, plain = "/ws/chat/{room_id}/", "/ws/plain/{slug}/"
    assert sorted(routes) == [chat, "/ws/notifications/", plain]
    assert routes[chat].params == {"room_id": "int"}
    assert routes[plain].params == {"slug": r"regex [-\w]+"}
    assert routes[chat].consumer is ChatConsumer
    assert routes[chat].name == "chat"
    assert routes[plain].consumer is PlainConsumer


def test_nested_routers_and_channels_own_consumers() -> None:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsConsumer

    inner = URLRouter(
        [
            path("chat/<str:room>/", AuthMiddlewareStack(ChatConsumer.as_asgi())),
            path("legacy/", ChannelsConsumer.as_asgi()),
        ]
    )
    app = ProtocolTypeRouter(
        {"websocket": AllowedHostsOriginValidator(URLRouter([path("api/<int:v>/", inner)]))}
    )
    routes = list(DjangoAdapter().websocket_routes(app))
    assert [(r.path, dict(r.params), r.consumer) for r in routes] == [
        ("/api/{v}/chat/{room}/", {"v": "int", "room": "str"}, ChatConsumer)
    ]


@pytest.mark.parametrize(
    ("regex", "template", "params"),
    [
        (r"^ws/chat/(?P<room_id>\w+)/$", "ws/chat/{room_id}/", {"room_id": r"regex \w+"}),
        (r"^ws/(?P<a>[0-9]{2,4})/x\.json$", "ws/{a}/x.json", {"a": "regex [0-9]{2,4}"}),
        (
            r"^ws/(?P<a>(?:one|two))/(?P<b>[^/]+)/\Z",
            "ws/{a}/{b}/",
            {"a": "regex (?:one|two)", "b": "regex [^/]+"},
        ),
    ],
)
def test_regex_patterns_keep_their_groups(
    regex: str, template: str, params: dict[str, str]
) -> None:
    # the groups' regexes survive as the parameters' types (AsyncAPI documents them)
    found = pattern_template(re_path(regex, ChatConsumer.as_asgi()).pattern)
    assert found == (template, params)


def test_adapter_imports_no_django_where_django_is_not_in_use() -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        from chanx.core import AsyncJsonWebsocketConsumer
        from chanx.core.adapters import load_adapters
        adapters = load_adapters()
        names = [a.name for a in adapters]
        scope = {"type": "websocket", "path_params": {}}
        layer = AsyncJsonWebsocketConsumer.get_layer(scope)
        handled = [a.handles_app(object()) for a in adapters]
        routes = [list(a.websocket_routes(object())) for a in adapters]
        loaded = sorted(m for m in ("django", "channels", "rest_framework") if m in sys.modules)
        print(json.dumps({"adapters": names, "loaded": loaded, "layer": type(layer).__name__}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert "django" in report["adapters"]
    assert report["loaded"] == []
    assert report["layer"] == "InMemoryChannelLayer"
