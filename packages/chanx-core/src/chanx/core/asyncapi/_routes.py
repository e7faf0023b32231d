"""Where the routes of a document come from: an app (through the adapters) or a plain list."""

from __future__ import annotations

from typing import Any

from chanx.core._adapters import WebsocketRoute, load_adapters
from chanx.core._routing import routes_of

__all__ = ["RouteSource", "discover_routes", "resolve_routes"]

#: An app of an installed framework, or routes given directly.
RouteSource = object


def discover_routes(app: object) -> list[WebsocketRoute]:
    """The Chanx routes of ``app``, listed by the first installed adapter that knows it.

    Raises:
        TypeError: No installed adapter recognises ``app``.
    """
    adapters = load_adapters()
    for adapter in adapters:
        if adapter.handles_app(app):
            return list(adapter.websocket_routes(app))
    names = ", ".join(a.name for a in adapters) or "none"
    raise TypeError(
        "expected an application of an installed framework (FastAPI/Starlette with "
        f"chanx-fastapi, Django with chanx-django; adapters installed: {names}), "
        f"but got {app!r}"
    )


def _consumer_of(value: Any) -> type[Any]:
    consumer = getattr(value, "consumer_class", value)
    routes_of(consumer)  # raises TypeError for anything but a consumer
    return consumer  # type: ignore[no-any-return]


def resolve_routes(source: RouteSource) -> list[WebsocketRoute]:
    """``source`` as routes: `WebsocketRoute` / ``(path, consumer[, name])`` tuples, or an app."""
    if not isinstance(source, (list, tuple)):
        return discover_routes(source)
    routes: list[WebsocketRoute] = []
    for item in source:
        if isinstance(item, WebsocketRoute):
            routes.append(item)
        elif isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[0], str):
            name = item[2] if len(item) == 3 else None
            routes.append(WebsocketRoute(item[0], _consumer_of(item[1]), name))
        else:
            raise TypeError(
                f"expected a WebsocketRoute or a (path, consumer) tuple, but got {item!r}"
            )
    return routes
