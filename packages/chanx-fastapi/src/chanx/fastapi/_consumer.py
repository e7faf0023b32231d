"""The Starlette/FastAPI flavour of the consumer."""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from starlette.requests import HTTPConnection

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.core import ConsumerApp, FrameworkAdapter
from chanx.fastapi._adapter import StarletteAdapter
from chanx.fastapi._endpoint import EndpointConsumerApp, NotAnEndpoint

__all__ = ["AsyncJsonWebsocketConsumer"]


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A Chanx consumer for FastAPI and Starlette apps.

    Mount ``Consumer.as_asgi()`` with any of: ``app.add_api_websocket_route(path, ...)``,
    ``app.websocket(path)(...)``, ``app.router.add_websocket_route(path, ...)``, an
    ``APIRouter``, a ``WebSocketRoute``, inside a ``Mount``. Path parameters arrive in
    ``self.path_params``; `connection` gives Starlette's view of the handshake request.
    Layer aliases name layers of Chanx's registry, here and in class-level sends, even
    when Django is configured in the same process.
    """

    framework: ClassVar[FrameworkAdapter | None] = StarletteAdapter()

    # Given the class itself, FastAPI fails at route creation with a message naming as_asgi().
    __signature__: ClassVar[Any] = NotAnEndpoint()

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> ConsumerApp:
        """An ASGI app serving this consumer, also usable as a FastAPI websocket endpoint.

        ``initkwargs`` override class attributes on each instance.
        """
        app = super().as_asgi(**initkwargs)
        return EndpointConsumerApp(app.consumer_class, app.consumer_initkwargs)

    @cached_property
    def connection(self) -> HTTPConnection:
        """Headers, cookies, query parameters, ``app`` and ``state`` of the handshake."""
        return HTTPConnection(self.scope)
