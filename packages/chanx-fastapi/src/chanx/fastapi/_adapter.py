"""The Starlette/FastAPI framework adapter (entry point ``chanx.adapters: fastapi``).

It recognises Starlette and FastAPI apps and routers, walks their routes (mounts and
sub-apps included) to list the Chanx consumers mounted there, and reads the path
parameters Starlette's router matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Host, Mount, Router, WebSocketRoute

from chanx.core import WebsocketRoute, routes_of
from chanx.core.layers import ChannelLayer
from chanx.core.types import Scope

__all__ = ["StarletteAdapter"]


def _router_of(app: object) -> Router | None:
    if isinstance(app, Router):
        return app
    router = getattr(app, "router", None)
    return router if isinstance(router, Router) else None


def _consumer_of(endpoint: object) -> type[Any] | None:
    consumer = getattr(endpoint, "consumer_class", None)
    try:
        routes_of(consumer)
    except TypeError:
        return None
    return consumer


def _walk(routes: list[BaseRoute], prefix: str) -> Iterator[WebsocketRoute]:
    for route in routes:
        if isinstance(route, WebSocketRoute):
            consumer = _consumer_of(route.endpoint)
            if consumer is not None:
                # Starlette names an unnamed route after the endpoint's class (ConsumerApp).
                name = route.name if route.name != type(route.endpoint).__name__ else None
                yield WebsocketRoute(prefix + route.path, consumer, name)
        elif isinstance(route, Mount):
            inner = route.routes or _routes_of(route.app)
            yield from _walk(inner, prefix + route.path)
        elif isinstance(route, Host):
            yield from _walk(_routes_of(route.app), prefix)
        elif callable(getattr(route, "effective_candidates", None)):
            # FastAPI 0.16x includes routers lazily; the effective routes carry the prefix.
            for candidate in route.effective_candidates():  # type: ignore[attr-defined]
                inner = getattr(candidate, "starlette_route", None) or candidate
                if isinstance(inner, BaseRoute):
                    yield from _walk([inner], prefix)


def _routes_of(app: object) -> list[BaseRoute]:
    router = _router_of(app)
    return list(router.routes) if router is not None else []


class StarletteAdapter:
    """Chanx's adapter for Starlette and FastAPI (which is a Starlette app)."""

    name = "fastapi"

    def handles_scope(self, scope: Scope) -> bool:
        """Whether a Starlette app or router (FastAPI included) routed this connection.

        Starlette's routing leaves the app or router in the scope, and always the matched
        ``path_params`` (a scope made by hand with ``path_params`` reads as Starlette's).
        """
        if isinstance(scope.get("app"), Starlette) or isinstance(scope.get("router"), Router):
            return True
        return "path_params" in scope

    def path_params(self, scope: Scope) -> Mapping[str, Any]:
        """What Starlette's router matched (``scope["path_params"]``)."""
        params: Mapping[str, Any] = scope.get("path_params") or {}
        return params

    def get_channel_layer(self, alias: str) -> ChannelLayer | None:
        """Starlette has no layer settings: Chanx's registry decides."""
        return None

    def override_channel_layer(self, alias: str, layer: ChannelLayer) -> Callable[[], None] | None:
        """Nothing to override: Chanx's registry is Starlette's only source of layers."""
        return None

    def handles_app(self, app: object) -> bool:
        """Starlette/FastAPI apps, routers (``APIRouter`` too) and objects with one."""
        return _router_of(app) is not None

    def websocket_routes(self, app: object) -> list[WebsocketRoute]:
        """Chanx consumers mounted in ``app``, with full paths through ``Mount`` prefixes."""
        return list(_walk(_routes_of(app), ""))
