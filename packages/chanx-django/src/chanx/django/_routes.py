r"""Walking a Channels application to list its Chanx consumers and their path templates.

Django patterns become the templates core's AsyncAPI builder reads, keeping what each
parameter accepts: ``ws/chat/<int:room_id>/`` reads ``/ws/chat/{room_id:int}/`` (likewise
``str``, ``slug``, ``uuid``, ``path``); a custom converter's regex, and the named groups of
``re_path(r"^ws/chat/(?P<room_id>\w+)/$")``, stay regex groups
(``/ws/chat/(?P<room_id>\w+)/``); both become ``{room_id}`` in the document's address.
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import re
from collections.abc import Iterator

from channels.routing import ProtocolTypeRouter, URLRouter

from chanx.core import AsyncJsonWebsocketConsumer
from chanx.core._adapters import WebsocketRoute
from django.urls.resolvers import RegexPattern, RoutePattern

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


def _regex_template(regex: str) -> str:
    """Drop a URL regex's anchors and unescape its literals; named groups stay as they are."""
    out: list[str] = []
    i, end = 0, len(regex)
    while i < end:
        char = regex[i]
        if regex.startswith("(?P<", i):
            start = i
            close = regex.index(">", i)
            depth, i = 1, close + 1
            while i < end and depth:
                if regex[i] == "\\":
                    i += 1
                elif regex[i] == "(":
                    depth += 1
                elif regex[i] == ")":
                    depth -= 1
                i += 1
            out.append(regex[start:i])
            continue
        if char == "\\" and i + 1 < end:
            following = regex[i + 1]
            if following in "AZ":
                i += 2
                continue
            out.append(following)
            i += 2
            continue
        if (char == "^" and i == 0) or (char == "$" and i == end - 1):
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def pattern_template(pattern: object) -> str:
    """The path template of a Django URL pattern (``RoutePattern`` or ``RegexPattern``)."""
    if isinstance(pattern, RoutePattern):
        converters = pattern.converters

        def parameter(match: re.Match[str]) -> str:
            converter, name = match["converter"] or "str", match["name"]
            if converter in _BUILTIN_CONVERTERS:
                return f"{{{name}:{converter}}}"
            return f"(?P<{name}>{converters[name].regex})"  # a registered custom converter

        return _ROUTE_PARAMETER.sub(parameter, str(pattern))
    if isinstance(pattern, RegexPattern):
        return _regex_template(str(pattern))
    return str(pattern)


def _consumer_class(callback: object) -> type[AsyncJsonWebsocketConsumer] | None:
    consumer = getattr(callback, "consumer_class", None)
    if isinstance(consumer, type) and issubclass(consumer, AsyncJsonWebsocketConsumer):
        return consumer
    return None


def iter_routes(app: object, prefix: str = "/") -> Iterator[WebsocketRoute]:
    """Yield a `WebsocketRoute` per Chanx consumer under ``app``'s websocket branch."""
    router = find_router(app)
    if isinstance(router, ProtocolTypeRouter):
        websocket = router.application_mapping.get("websocket")
        if websocket is not None:
            yield from iter_routes(websocket, prefix)
        return
    if router is None:
        return
    for route in router.routes:
        template = prefix + pattern_template(route.pattern).lstrip("/")
        callback = _unwrap(route.callback)
        if isinstance(callback, URLRouter):
            yield from iter_routes(callback, template)
            continue
        consumer = _consumer_class(callback)
        if consumer is not None:
            yield WebsocketRoute(template, consumer, getattr(route, "name", None))
