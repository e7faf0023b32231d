"""Testing kit for Chanx: drive any ASGI WebSocket app from an async test, in memory."""

from __future__ import annotations

from importlib.metadata import version as _version

# First: refuses to load, saying how to fix it, under an old chanx 2.x install.
import chanx.testing._namespace  # noqa: F401
from chanx.testing._communicator import (
    CommunicatorTimeoutError,
    ConnectResult,
    HandshakeRefusedError,
    UnexpectedEventError,
    WebsocketCommunicator,
)
from chanx.testing._spies import CapturedSend, CaptureLayer

__version__ = _version("chanx-testing")

__all__ = [
    "CaptureLayer",
    "CapturedSend",
    "CommunicatorTimeoutError",
    "ConnectResult",
    "HandshakeRefusedError",
    "UnexpectedEventError",
    "WebsocketCommunicator",
    "__version__",
]
