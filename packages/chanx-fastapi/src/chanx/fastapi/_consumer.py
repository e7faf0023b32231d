"""The Starlette/FastAPI flavour of the consumer."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

from starlette.requests import HTTPConnection

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.core import FrameworkAdapter
from chanx.fastapi._adapter import StarletteAdapter

__all__ = ["AsyncJsonWebsocketConsumer"]


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A Chanx consumer for FastAPI and Starlette apps.

    Mount it with ``app.router.add_websocket_route(path, Consumer.as_asgi())`` (or a
    ``WebSocketRoute``, an ``APIRouter``, inside a ``Mount``). Path parameters arrive in
    ``self.path_params``; `connection` gives Starlette's view of the handshake request.
    Layer aliases name layers of Chanx's registry, here and in class-level sends, even
    when Django is configured in the same process.
    """

    framework: ClassVar[FrameworkAdapter | None] = StarletteAdapter()

    @cached_property
    def connection(self) -> HTTPConnection:
        """Headers, cookies, query parameters, ``app`` and ``state`` of the handshake."""
        return HTTPConnection(self.scope)
