"""Testing kit for Chanx: drive any ASGI WebSocket app from an async test, in memory.

The names load on first use: pytest imports this package for its plugin in every session,
and that must not cost the communicator, chanx-core and pydantic when no test uses them.
"""

from __future__ import annotations

import sys as _sys
import typing as _typing
from importlib import import_module as _import_module
from importlib.metadata import version as _version

# First: under an old chanx 2.x install (``chanx`` is then a regular package, with a file)
# chanx.core.namespace refuses to load, saying how to fix it. Only then: chanx.core is
# not imported for nothing.
if getattr(_sys.modules["chanx"], "__file__", None) is not None:
    import chanx.core.namespace  # noqa: F401

if _typing.TYPE_CHECKING:
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

_HOMES = {
    "CaptureLayer": "chanx.testing._spies",
    "CapturedSend": "chanx.testing._spies",
    "CommunicatorTimeoutError": "chanx.testing._communicator",
    "ConnectResult": "chanx.testing._communicator",
    "HandshakeRefusedError": "chanx.testing._communicator",
    "UnexpectedEventError": "chanx.testing._communicator",
    "WebsocketCommunicator": "chanx.testing._communicator",
}


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'chanx.testing' has no attribute {name!r}")
    value = getattr(_import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
