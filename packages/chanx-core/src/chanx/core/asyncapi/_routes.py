"""Where the routes of a document come from: an app (through the adapters) or a plain list."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from chanx.core._adapters import WebsocketRoute, load_adapters

__all__ = ["RouteSource", "discover_routes", "normalize_address", "resolve_routes"]

#: An app of an installed framework, or routes given directly.
RouteSource = object

_STARLETTE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")
_DJANGO_PARAM = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)>")
_REGEX_GROUP = "(?P<"


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
    if isinstance(consumer, type) and hasattr(consumer, "_ws_routes"):
        return consumer
    raise TypeError(f"expected a Chanx consumer class or its as_asgi() app, but got {value!r}")


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


def _regex_params(path: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace each ``(?P<name>...)`` group of a regex route by ``{name}``."""
    params: list[tuple[str, str]] = []
    out: list[str] = []
    i = 0
    while (start := path.find(_REGEX_GROUP, i)) >= 0:
        out.append(path[i:start])
        end = path.index(">", start)
        name = path[start + len(_REGEX_GROUP) : end]
        depth, j = 1, end + 1
        while j < len(path) and depth:
            if path[j] == "\\":
                j += 1
            elif path[j] == "(":
                depth += 1
            elif path[j] == ")":
                depth -= 1
            j += 1
        params.append((name, "regex " + path[end + 1 : j - 1]))
        out.append("{" + name + "}")
        i = j
    out.append(path[i:])
    return "".join(out), params


def normalize_address(path: str) -> tuple[str, dict[str, str]]:
    """An AsyncAPI address (``/ws/chat/{room_id}``) and its parameters with their types.

    Understands Starlette (``{id:int}``), Django (``<int:id>``) and regex
    (``(?P<id>[0-9]+)``) route syntax.
    """
    params: dict[str, str] = {}
    if _REGEX_GROUP in path:
        path, found = _regex_params(path)
        params.update(found)
        path = path.removeprefix("^").removesuffix("$").replace("\\", "")

    def starlette(match: re.Match[str]) -> str:
        params.setdefault(match[1], match[2] or "str")  # a regex group's {name} keeps its regex
        return "{" + match[1] + "}"

    def django(match: re.Match[str]) -> str:
        params[match[2]] = match[1] or "str"
        return "{" + match[2] + "}"

    path = _STARLETTE_PARAM.sub(starlette, path)
    path = _DJANGO_PARAM.sub(django, path)
    if not path.startswith("/"):
        path = "/" + path
    return path, params


def iter_unique(items: Iterable[Any]) -> list[Any]:
    """Items in first-seen order, without repeats."""
    return list(dict.fromkeys(items))
