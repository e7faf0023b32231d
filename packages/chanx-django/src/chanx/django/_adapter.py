"""The ``chanx.adapters`` entry point for Django Channels.

Core loads this module in every process where chanx-django is installed, FastAPI apps
included, so it imports neither Django nor Channels: when they are not already imported,
the process is not serving Django and every method declines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from chanx.core.types import Scope

if TYPE_CHECKING:
    from chanx.core import WebsocketRoute
    from chanx.core.layers import ChannelLayer

__all__ = ["DjangoAdapter", "channels_layer", "django_configured", "url_route_kwargs"]


def django_configured() -> bool:
    """Whether Django is imported and its settings are configured (never imports it)."""
    conf = sys.modules.get("django.conf")
    return conf is not None and bool(conf.settings.configured)


def _is_channels_user(value: object) -> bool:
    auth = sys.modules.get("channels.auth")
    return auth is not None and isinstance(value, auth.UserLazyObject)


def url_route_kwargs(scope: Scope) -> dict[str, Any]:
    """The keyword arguments Channels' ``URLRouter`` matched (``scope["url_route"]``)."""
    return dict(scope.get("url_route", {}).get("kwargs", {}))


def channels_layer(alias: str) -> ChannelLayer | None:
    """Channels' layer for ``alias`` when ``CHANNEL_LAYERS`` names it, else None."""
    if not django_configured():
        return None
    from channels.layers import channel_layers

    if alias not in channel_layers:
        return None
    layer: ChannelLayer = channel_layers[alias]
    return layer


class DjangoAdapter:
    """Tells Channels-routed connections apart and resolves layers through ``CHANNEL_LAYERS``.

    A scope belongs to Django Channels when Channels' ``URLRouter`` routed it (it adds
    ``url_route``) or Channels' ``AuthMiddleware`` saw it (``scope["user"]`` is its lazy
    user). Starlette sets neither, so one consumer class can serve both frameworks.
    """

    name = "django"

    def handles_scope(self, scope: Scope) -> bool:
        """Whether Channels routed this connection."""
        return "url_route" in scope or _is_channels_user(scope.get("user"))

    def path_params(self, scope: Scope) -> dict[str, Any]:
        """The URL kwargs Channels' ``URLRouter`` matched."""
        return url_route_kwargs(scope)

    def get_channel_layer(self, alias: str) -> ChannelLayer | None:
        """Channels' layer for ``alias``, or None when Django does not configure it."""
        return channels_layer(alias)

    def override_channel_layer(self, alias: str, layer: ChannelLayer) -> Callable[[], None] | None:
        """Have Channels hand out ``layer`` for ``alias`` when ``CHANNEL_LAYERS`` names it."""
        if not django_configured() or "channels.layers" not in sys.modules:
            return None
        from channels.layers import channel_layers

        if alias not in channel_layers:
            return None
        previous = channel_layers.set(alias, layer)

        def undo() -> None:
            if previous is None:
                channel_layers.backends.pop(alias, None)
            else:
                channel_layers.set(alias, previous)

        return undo

    def handles_app(self, app: object) -> bool:
        """Whether ``app`` is a Channels router, or Channels middleware around one."""
        if "channels.routing" not in sys.modules:
            return False
        from chanx.django._routes import find_router

        return find_router(app) is not None

    def websocket_routes(self, app: object) -> Iterator[WebsocketRoute]:
        """The Chanx consumers in the websocket branch of a Channels app."""
        if "channels.routing" not in sys.modules:
            return iter(())
        from chanx.django._routes import iter_routes

        return iter_routes(app)

    def __repr__(self) -> str:
        return "<DjangoAdapter>"
