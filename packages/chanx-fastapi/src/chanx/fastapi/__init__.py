"""Chanx for FastAPI and Starlette.

Consumers are ASGI apps: mount ``Consumer.as_asgi()`` with ``app.add_api_websocket_route``,
``app.websocket(path)(...)``, ``app.router.add_websocket_route``, an ``APIRouter`` or
``starlette.routing.WebSocketRoute``.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

# First: under an old chanx 2.x install (``chanx`` is then a regular package, with a file)
# chanx.core.namespace refuses to load, saying how to fix it. Only then: chanx.core is
# not imported for nothing.
if getattr(sys.modules["chanx"], "__file__", None) is not None:
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
