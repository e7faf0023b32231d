r"""Walking a Channels application to list its Chanx consumers and their path templates.

Each Django pattern goes through core's one route-syntax reader (`route_template`), which
keeps what each parameter accepts: ``ws/chat/<int:room_id>/`` reads ``/ws/chat/{room_id}/``
with ``room_id`` an ``int`` (likewise ``str``, ``slug``, ``uuid``, ``path``); a custom
converter is handed over as its regex, and the named groups of
``re_path(r"^ws/chat/(?P<room_id>\w+)/$")`` become ``{room_id}`` of type ``regex \w+``.
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from channels.routing import ProtocolTypeRouter, URLRouter

from chanx.core import AsyncJsonWebsocketConsumer, WebsocketRoute
from chanx.core.adapters import route_template
from django.urls.resolvers import RoutePattern

__all__ = ["find_router", "iter_routes", "pattern_template"]

# Middleware keeps the app it wraps under one of these names: Channels' BaseMiddleware and
# session/cookie middleware use ``inner``, OriginValidator ``application``, ASGI-style
# middleware ``app``.
_WRAPPED_ATTRIBUTES = ("inner", "application", "app")
_MAX_DEPTH = 32  # a guard against middleware that points at itself

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_BUILTIN_CONVERTERS = frozenset({"str", "int", "slug", "uuid", "path"})


def _unwrap(app: object) -> object:
    for _ in range(_MAX_DEPTH):
        if isinstance(app, (ProtocolTypeRouter, URLRouter)):
            return app
        inner = next(
            (getattr(app, name) for name in _WRAPPED_ATTRIBUTES if hasattr(app, name)), None
        )
        if inner is None or inner is app:
            return app
        app = inner
    return app


def find_router(app: object) -> ProtocolTypeRouter | URLRouter | None:
    """The Channels router ``app`` is, or wraps through middleware; None if there is none."""
    found = _unwrap(app)
    return found if isinstance(found, (ProtocolTypeRouter, URLRouter)) else None


def pattern_template(pattern: object) -> tuple[str, dict[str, str]]:
    """A Django URL pattern (``RoutePattern`` or ``RegexPattern``) as a ``{name}`` template.

    Both print as the text they were written as; core's one route-syntax reader turns
    that into the template and each parameter's type (``int``, ``slug``...; a custom
    converter is handed over as its regex, the one thing about it Django knows).
    """
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        converters = pattern.converters

        def custom(match: re.Match[str]) -> str:
            converter, name = match["converter"] or "str", match["name"]
            if converter in _BUILTIN_CONVERTERS:
                return match[0]
            return f"(?P<{name}>{converters[name].regex})"  # a registered custom converter

        text = _ROUTE_PARAMETER.sub(custom, text)
    return route_template(text)


def _consumer_class(callback: object) -> type[AsyncJsonWebsocketConsumer] | None:
    consumer = getattr(callback, "consumer_class", None)
    if isinstance(consumer, type) and issubclass(consumer, AsyncJsonWebsocketConsumer):
        return consumer
    return None


def iter_routes(
    app: object, prefix: str = "/", params: Mapping[str, str] | None = None
) -> Iterator[WebsocketRoute]:
    """Yield a `WebsocketRoute` per Chanx consumer under ``app``'s websocket branch."""
    router = find_router(app)
    if isinstance(router, ProtocolTypeRouter):
        websocket = router.application_mapping.get("websocket")
        if websocket is not None:
            yield from iter_routes(websocket, prefix, params)
        return
    if router is None:
        return
    for route in router.routes:
        template, found = pattern_template(route.pattern)
        template = prefix + template.lstrip("/")
        found = {**(params or {}), **found}
        callback = _unwrap(route.callback)
        if isinstance(callback, URLRouter):
            yield from iter_routes(callback, template, found)
            continue
        consumer = _consumer_class(callback)
        if consumer is not None:
            yield WebsocketRoute(template, consumer, getattr(route, "name", None), found)
