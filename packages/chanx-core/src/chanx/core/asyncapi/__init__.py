"""AsyncAPI 3.0 documents of Chanx routes, and an offline page that renders them.

The document is built on each call from the routes of an app (found through the installed
framework adapters) or from an explicit list; nothing is registered globally::

    from chanx.core.asyncapi import build_asyncapi, render_docs_html

    document = build_asyncapi(app, servers=["ws://localhost:8000"])
    page = render_docs_html(document)
"""

from __future__ import annotations

from chanx.core._adapters import WebsocketRoute
from chanx.core.asyncapi._builder import ASYNCAPI_VERSION, build_asyncapi
from chanx.core.asyncapi._docs import (
    DOCS_ASSETS,
    DOCS_CSP,
    docs_asset,
    render_docs_html,
    to_json,
)
from chanx.core.asyncapi._routes import discover_routes
from chanx.core.asyncapi._yaml import to_yaml

__all__ = [
    "ASYNCAPI_VERSION",
    "DOCS_ASSETS",
    "DOCS_CSP",
    "WebsocketRoute",
    "build_asyncapi",
    "discover_routes",
    "docs_asset",
    "render_docs_html",
    "to_json",
    "to_yaml",
]
