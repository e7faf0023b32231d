"""Chanx for FastAPI and Starlette.

Consumers are ASGI apps: mount ``Consumer.as_asgi()`` with ``app.add_api_websocket_route``,
``app.websocket(path)(...)``, ``app.router.add_websocket_route``, an ``APIRouter`` or
``starlette.routing.WebSocketRoute``.
"""

from __future__ import annotations

from importlib.metadata import version

# First: refuses to load, saying how to fix it, under an old chanx 2.x install.
import chanx.core.namespace  # noqa: F401
from chanx.fastapi._consumer import AsyncJsonWebsocketConsumer
from chanx.fastapi._docs import add_asyncapi_routes, asyncapi_routes

__version__ = version("chanx-fastapi")

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "__version__",
    "add_asyncapi_routes",
    "asyncapi_routes",
]
