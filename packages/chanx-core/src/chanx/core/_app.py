"""The ASGI application object that `as_asgi()` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chanx.core.types import Receive, Scope, Send

if TYPE_CHECKING:
    from chanx.core._consumer import AsyncJsonWebsocketConsumer

__all__ = ["ConsumerApp"]


class ConsumerApp:
    """ASGI app making one consumer instance per connection.

    A class instance rather than a function on purpose: Starlette calls plain functions
    as ``endpoint(websocket)``, but hands a callable object the raw ASGI triple. The
    ``consumer_class``/``consumer_initkwargs`` attributes match what Channels' ``as_asgi``
    exposes, so routing tools can find the consumer behind a route.
    """

    __slots__ = ("consumer_class", "consumer_initkwargs")

    def __init__(
        self, consumer_class: type[AsyncJsonWebsocketConsumer], initkwargs: dict[str, Any]
    ) -> None:
        self.consumer_class = consumer_class
        self.consumer_initkwargs = initkwargs

    if TYPE_CHECKING:
        # Type checkers see a gradual signature: Starlette annotates websocket endpoints as
        # functions of a WebSocket, yet hands callable objects like this one the ASGI triple.
        # Either way `app.router.add_websocket_route(path, Consumer.as_asgi())` checks.
        async def __call__(self, *args: Any, **kwargs: Any) -> None: ...

    else:

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            consumer = self.consumer_class(**self.consumer_initkwargs)
            await consumer(scope, receive, send)

    def __repr__(self) -> str:
        return f"<ConsumerApp {self.consumer_class.__module__}.{self.consumer_class.__qualname__}>"
