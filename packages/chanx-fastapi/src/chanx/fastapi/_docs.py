"""One call to serve the AsyncAPI document and its offline docs page from a Starlette app."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router

from chanx.core.asyncapi import (
    DOCS_ASSETS,
    DOCS_CSP,
    build_asyncapi,
    docs_asset,
    render_docs_html,
    to_yaml,
)

__all__ = ["add_asyncapi_routes", "asyncapi_routes"]

ServersConfig = Sequence[str] | Mapping[str, Mapping[str, Any]] | None


def _request_server(request: Request) -> list[str]:
    # Without configured servers, the one answering this request is the best guess.
    scheme = "wss" if request.url.scheme in {"https", "wss"} else "ws"
    root = request.scope.get("root_path", "").rstrip("/")
    return [f"{scheme}://{request.url.netloc}{root}"]


def asyncapi_routes(
    *,
    path: str = "/asyncapi",
    source: object = None,
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: ServersConfig = None,
) -> list[BaseRoute]:
    """Routes serving ``{path}.json``, ``{path}.yaml`` and the docs page at ``{path}``.

    The document is built on each request from ``source`` (default: the app serving the
    request), so it always matches the mounted routes.

    Args:
        path: Where the page lives; the document and the page's assets sit beside it.
        source: The app (or a list of routes) to document instead of the serving app.
        title: ``info.title`` (default: the app's title).
        version: ``info.version`` (default: the app's version).
        description: ``info.description`` (default: the app's description).
        servers: Server URLs or AsyncAPI Server objects (default: the requested host).
    """
    if not path.startswith("/") or path.endswith("/"):
        raise ValueError(f"expected a path such as '/asyncapi', but got {path!r}")

    def document(request: Request) -> dict[str, Any]:
        return build_asyncapi(
            source if source is not None else request.app,
            title=title,
            version=version,
            description=description,
            servers=servers if servers is not None else _request_server(request),
        )

    async def as_json(request: Request) -> Response:
        return JSONResponse(document(request))

    async def as_yaml(request: Request) -> Response:
        return Response(to_yaml(document(request)), media_type="application/yaml")

    async def page(request: Request) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        html = render_docs_html(document(request), asset_base=root + path)
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})

    def asset(name: str) -> Callable[[Request], Any]:
        async def serve(request: Request) -> Response:
            text, media_type = docs_asset(name)
            return Response(text, media_type=media_type, headers={"Cache-Control": "no-cache"})

        return serve

    routes: list[BaseRoute] = [
        Route(path + ".json", as_json, methods=["GET"], include_in_schema=False),
        Route(path + ".yaml", as_yaml, methods=["GET"], include_in_schema=False),
        Route(path, page, methods=["GET"], name="asyncapi_docs", include_in_schema=False),
    ]
    for name in DOCS_ASSETS:
        routes.append(
            Route(f"{path}/{name}", asset(name), methods=["GET"], include_in_schema=False)
        )
    return routes


def add_asyncapi_routes(
    app: Starlette | Router,
    *,
    path: str = "/asyncapi",
    title: str | None = None,
    version: str | None = None,
    description: str | None = None,
    servers: ServersConfig = None,
) -> None:
    """Serve ``{path}.json``, ``{path}.yaml`` and the offline docs page at ``{path}``.

    Works with FastAPI and Starlette apps (``app.router``) and routers::

        add_asyncapi_routes(app)              # /asyncapi, /asyncapi.json, /asyncapi.yaml

    Args:
        app: The app (or router) to add the routes to; an app also is what gets documented.
        path: Where the page lives; the document and the page's assets sit beside it.
        title: ``info.title`` (default: the app's title).
        version: ``info.version`` (default: the app's version).
        description: ``info.description`` (default: the app's description).
        servers: Server URLs or AsyncAPI Server objects (default: the requested host).
    """
    router = app if isinstance(app, Router) else getattr(app, "router", None)
    if not isinstance(router, Router):
        raise TypeError(f"expected a Starlette/FastAPI app or router, but got {app!r}")
    # A bare router may be included elsewhere later: then the serving app is documented.
    source = None if isinstance(app, Router) else app
    new = asyncapi_routes(
        path=path,
        source=source,
        title=title,
        version=version,
        description=description,
        servers=servers,
    )
    router.routes.extend(new)
