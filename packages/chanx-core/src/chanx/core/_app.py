"""The ASGI application object that `as_asgi()` returns."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from chanx.core._adapters import FrameworkAdapter, adapter_for_scope
from chanx.core.types import Receive, Scope, Send

__all__ = ["ConsumerApp"]


class _Served(Protocol):
    async def serve(
        self, scope: Scope, receive: Receive, send: Send, adapter: FrameworkAdapter | None
    ) -> None: ...


class ConsumerApp:
    """ASGI app making one consumer instance per connection.

    A class instance rather than a function on purpose: Starlette calls plain functions
    as ``endpoint(websocket)``, but hands a callable object the raw ASGI triple. The
    ``consumer_class``/``consumer_initkwargs`` attributes match what Channels' ``as_asgi``
    exposes, so routing tools can find the consumer behind a route.

    The framework serving the app is decided once, on its first connection: the consumer
    class's own ``framework`` adapter, else the installed adapter that routed it. Its
    layers and path parameters serve every later connection without asking again.
    """

    __slots__ = ("_adapter", "_resolved", "consumer_class", "consumer_initkwargs")

    def __init__(self, consumer_class: type[Any], initkwargs: dict[str, Any]) -> None:
        self.consumer_class = consumer_class
        self.consumer_initkwargs = initkwargs
        self._adapter: FrameworkAdapter | None = None
        self._resolved = False

    def serve_connection(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The coroutine that serves one connection: a new consumer instance's ``serve``.

        A wrapper app (a framework's endpoint) awaits it directly, so no extra coroutine
        frame stays on an idle connection's stack.
        """
        if not self._resolved:
            self._adapter = self.consumer_class.framework or adapter_for_scope(scope)
            self._resolved = True
        consumer: _Served = self.consumer_class(**self.consumer_initkwargs)
        return consumer.serve(scope, receive, send, self._adapter)

    if TYPE_CHECKING:
        # Type checkers see a gradual signature: Starlette annotates websocket endpoints as
        # functions of a WebSocket, yet hands callable objects like this one the ASGI triple.
        # Either way `app.router.add_websocket_route(path, Consumer.as_asgi())` checks.
        async def __call__(self, *args: Any, **kwargs: Any) -> None: ...

    else:

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.serve_connection(scope, receive, send)

    def __repr__(self) -> str:
        return f"<ConsumerApp {self.consumer_class.__module__}.{self.consumer_class.__qualname__}>"
