"""Chanx for Django Channels.

Add ``"chanx.django"`` to ``INSTALLED_APPS``, write consumers against
``chanx.django.AsyncJsonWebsocketConsumer`` and mount ``Consumer.as_asgi()`` in a Channels
``URLRouter``. Layers come from ``CHANNEL_LAYERS``; `DjangoAuthenticator` runs Django REST
framework authentication and permission classes at connect time.

The names import lazily: Chanx loads this package's framework adapter in every process
where it is installed, and that must not import Django.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

# First: under an old chanx 2.x install (``chanx`` is then a regular package, with a file)
# chanx.core.namespace refuses to load, saying how to fix it. Only then: chanx.core is
# not imported for nothing.
if getattr(sys.modules["chanx"], "__file__", None) is not None:
    import chanx.core.namespace  # noqa: F401

if TYPE_CHECKING:
    from chanx.django._auth import DjangoAuthenticator, DjangoAuthResult
    from chanx.django._consumer import AsyncJsonWebsocketConsumer
    from chanx.django._layers import CHANNEL_FULL_ERRORS
    from chanx.django._messages import AuthenticatedMessage, AuthenticatedPayload
    from chanx.django._settings import ChanxSettings, chanx_settings

__version__ = version("chanx-django")

__all__ = [
    "CHANNEL_FULL_ERRORS",
    "AsyncJsonWebsocketConsumer",
    "AuthenticatedMessage",
    "AuthenticatedPayload",
    "ChanxSettings",
    "DjangoAuthResult",
    "DjangoAuthenticator",
    "__version__",
    "chanx_settings",
]

_LAZY = {
    "AsyncJsonWebsocketConsumer": "chanx.django._consumer",
    "AuthenticatedMessage": "chanx.django._messages",
    "AuthenticatedPayload": "chanx.django._messages",
    "CHANNEL_FULL_ERRORS": "chanx.django._layers",
    "ChanxSettings": "chanx.django._settings",
    "DjangoAuthResult": "chanx.django._auth",
    "DjangoAuthenticator": "chanx.django._auth",
    "chanx_settings": "chanx.django._settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chanx.django' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
