"""The AsyncAPI 3.0 document of a set of routes, built fresh on every call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from chanx.core.asyncapi._assemble import assemble
from chanx.core.asyncapi._plan import Plan, directions, make_plan
from chanx.core.asyncapi._routes import RouteSource, resolve_routes
from chanx.core.asyncapi._schemas import build_schemas

__all__ = ["ASYNCAPI_VERSION", "ServersConfig", "build_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"

ServersConfig = Mapping[str, Mapping[str, Any]] | Sequence[str] | None


def _servers(servers: ServersConfig) -> dict[str, Any]:
    if not servers:
        return {}
    if isinstance(servers, Mapping):
        return {name: dict(server) for name, server in servers.items()}
    if isinstance(servers, str):
        servers = [servers]
    out: dict[str, Any] = {}
    for i, url in enumerate(servers):
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(
                f"expected a server URL such as 'ws://localhost:8000', but got {url!r}"
            )
        server: dict[str, Any] = {"host": parts.netloc, "protocol": parts.scheme}
        if parts.path.strip("/"):
            server["pathname"] = "/" + parts.path.strip("/")
        out["default" if len(servers) == 1 else f"server{i + 1}"] = server
    return out


def _info(
    app: object, title: str | None, version: str | None, description: str | None
) -> dict[str, str]:
    def from_app(name: str) -> str | None:
        # FastAPI apps carry title/version/description; any object with them counts.
        value = getattr(app, name, None) if not isinstance(app, (list, tuple)) else None
        return value if isinstance(value, str) and value.strip() else None

    info = {
        "title": title or from_app("title") or "Chanx API",
        "version": version or from_app("version") or "0.1.0",
    }
    if text := description or from_app("description"):
        info["description"] = text
    return info


def build_asyncapi(
    source: RouteSource,
    *,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: ServersConfig = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``source``'s websocket routes, as a JSON-ready dict.

    Args:
        source: An app of an installed framework (its routes are discovered through the
            ``chanx.adapters`` entry points), or a list of `WebsocketRoute` /
            ``(path, consumer)`` tuples.
        title: ``info.title`` (default: the app's ``title``, else "Chanx API").
        version: ``info.version`` (default: the app's ``version``, else "0.1.0").
        description: ``info.description`` (default: the app's ``description``).
        servers: Server URLs (``["wss://example.com"]``) or AsyncAPI Server objects by name.
    """
    plans: list[Plan] = []
    taken: dict[str, None] = {}
    for route in resolve_routes(source):
        plan = make_plan(route, taken)
        taken[plan.channel_id] = None
        plans.append(plan)
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": _info(source, title, version, description),
        "defaultContentType": "application/json",
    }
    if server_objects := _servers(servers):
        document["servers"] = server_objects
    document.update(assemble(plans, build_schemas(directions(plans).items())))
    return document
