"""The Starlette/FastAPI flavour of the consumer."""

from __future__ import annotations

from functools import cached_property

from starlette.requests import HTTPConnection

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer

__all__ = ["AsyncJsonWebsocketConsumer"]


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A Chanx consumer for FastAPI and Starlette apps.

    Mount it with ``app.router.add_websocket_route(path, Consumer.as_asgi())`` (or a
    ``WebSocketRoute``, an ``APIRouter``, inside a ``Mount``). Path parameters arrive in
    ``self.path_params``; `connection` gives Starlette's view of the handshake request.
    """

    @cached_property
    def connection(self) -> HTTPConnection:
        """Headers, cookies, query parameters, ``app`` and ``state`` of the handshake."""
        return HTTPConnection(self.scope)
