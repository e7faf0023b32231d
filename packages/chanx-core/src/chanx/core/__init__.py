"""Chanx core: typed WebSocket consumers on plain ASGI.

Messages are pydantic models routed by ``action`` to ``@ws_handler`` methods; channel-layer
events are routed by ``type`` to ``@event_handler`` methods. Adapters (``chanx.fastapi``,
``chanx.django``) subclass `AsyncJsonWebsocketConsumer` for their framework and implement
`FrameworkAdapter` (``chanx.core.adapters`` holds the whole extension surface).
"""

from __future__ import annotations

from importlib.metadata import version

# First: refuses to load, saying how to fix it, under an old chanx 2.x install.
import chanx.core.namespace  # noqa: F401
from chanx.core._adapters import FrameworkAdapter, WebsocketRoute
from chanx.core._app import ConsumerApp
from chanx.core._auth import AuthResult, BaseAuthenticator, Credential, TokenAuthenticator
from chanx.core._consumer import AsyncJsonWebsocketConsumer
from chanx.core._decorators import channel, event_handler, ws_handler
from chanx.core._errors import ErrorCode
from chanx.core._groups import SEND_TEXT_EVENT
from chanx.core._messages import (
    BaseEvent,
    BaseMessage,
    CompleteMessage,
    ErrorMessage,
    ErrorPayload,
    PingMessage,
    PongMessage,
)
from chanx.core._routing import routes_of
from chanx.core.layers import get_channel_layer, register_channel_layer

__version__ = version("chanx-core")

__all__ = [
    "SEND_TEXT_EVENT",
    "AsyncJsonWebsocketConsumer",
    "AuthResult",
    "BaseAuthenticator",
    "BaseEvent",
    "BaseMessage",
    "CompleteMessage",
    "ConsumerApp",
    "Credential",
    "ErrorCode",
    "ErrorMessage",
    "ErrorPayload",
    "FrameworkAdapter",
    "PingMessage",
    "PongMessage",
    "TokenAuthenticator",
    "WebsocketRoute",
    "__version__",
    "channel",
    "event_handler",
    "get_channel_layer",
    "register_channel_layer",
    "routes_of",
    "ws_handler",
]
