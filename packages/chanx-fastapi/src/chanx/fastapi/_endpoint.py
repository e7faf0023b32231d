"""Consumers as FastAPI websocket endpoints (``add_api_websocket_route``, ``@app.websocket``).

FastAPI builds its websocket routes from the endpoint's signature: it asks for the
parameters it sees and hands the endpoint a ``WebSocket``. The app ``as_asgi()`` returns
here has the signature ``(websocket: WebSocket)``, so FastAPI passes the socket and the
consumer serves it; Starlette's routes, which give callable objects the raw ASGI triple,
keep working unchanged.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, NoReturn

from starlette.websockets import WebSocket, WebSocketDisconnect

from chanx.core import ConsumerApp
from chanx.core.types import Message

__all__ = ["EndpointConsumerApp", "NotAnEndpoint"]

_WEBSOCKET_ENDPOINT = inspect.Signature(
    [inspect.Parameter("websocket", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=WebSocket)]
)


class EndpointConsumerApp(ConsumerApp):
    """`ConsumerApp` that also serves as a FastAPI websocket endpoint."""

    __slots__ = ()
    __signature__ = _WEBSOCKET_ENDPOINT

    if not TYPE_CHECKING:

        async def __call__(self, *args: Any, **kwargs: Any) -> None:
            if len(args) == 3 and not kwargs:
                await self.serve_connection(*args)
                return
            websocket = kwargs.get("websocket", args[0] if len(args) == 1 else None)
            if not isinstance(websocket, WebSocket):
                raise TypeError(
                    f"{self!r} takes the ASGI (scope, receive, send) or a FastAPI "
                    f"websocket=WebSocket, but got args={args!r}, kwargs={kwargs!r}"
                )
            await self.serve_connection(websocket.scope, websocket.receive, _sender(websocket))


def _sender(websocket: WebSocket) -> Any:
    async def send(message: Message) -> None:
        try:
            await websocket.send(message)
        except WebSocketDisconnect as exc:
            # Starlette turns the server's OSError into WebSocketDisconnect; the consumer
            # knows a vanished client by the OSError a plain ASGI server raises.
            raise ConnectionResetError(f"the client went away (code {exc.code})") from exc

    return send


class NotAnEndpoint:
    """``__signature__`` of consumer classes: FastAPI given the class fails at route creation.

    ``@app.websocket(path)`` on a consumer class, or ``add_api_websocket_route(path,
    Consumer)``, would otherwise build a route that fails on every connection. Reading the
    signature of an instance falls through to the normal one.
    """

    def __get__(self, instance: object, owner: type[Any]) -> NoReturn:
        if instance is not None:
            raise AttributeError("__signature__")
        name = owner.__qualname__
        raise TypeError(
            f"{name} is a consumer class, not a FastAPI endpoint function: mount "
            f"{name}.as_asgi() instead, e.g. app.add_api_websocket_route(path, {name}.as_asgi()) "
            f"or app.router.add_websocket_route(path, {name}.as_asgi())"
        )
