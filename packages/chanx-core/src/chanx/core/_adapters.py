"""Framework adapters, found through the ``chanx.adapters`` entry point group.

An adapter tells whether a connection scope or an app belongs to its framework, resolves
layer aliases the framework's way (Django: ``CHANNEL_LAYERS``) and lists an app's websocket
routes for documentation tools. Detection is per scope and per app, so one consumer class
can serve a Django project and a FastAPI app in the same process.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from chanx.core.types import Scope

if TYPE_CHECKING:
    from chanx.core._consumer import AsyncJsonWebsocketConsumer
    from chanx.core.layers import ChannelLayer

__all__ = ["FrameworkAdapter", "WebsocketRoute", "load_adapters", "resolve_channel_layer"]

ENTRY_POINT_GROUP = "chanx.adapters"
logger = logging.getLogger("chanx.adapters")


@dataclass(frozen=True, slots=True)
class WebsocketRoute:
    """A websocket route of an app: its path template and the consumer behind it."""

    path: str
    consumer: type[AsyncJsonWebsocketConsumer]
    name: str | None = None


@runtime_checkable
class FrameworkAdapter(Protocol):
    """What an adapter provides; every method may decline (False, None, nothing)."""

    name: str

    def handles_scope(self, scope: Scope) -> bool:
        """Whether this connection was routed by the adapter's framework."""
        ...

    def get_channel_layer(self, alias: str) -> ChannelLayer | None:
        """The framework's layer for ``alias``, or None to let Chanx's registry decide."""
        ...

    def handles_app(self, app: object) -> bool:
        """Whether ``app`` is an application of the adapter's framework."""
        ...

    def websocket_routes(self, app: object) -> Iterable[WebsocketRoute]:
        """The Chanx consumers mounted in ``app``."""
        ...


_lock = threading.Lock()
_adapters: tuple[FrameworkAdapter, ...] | None = None


def _plugins_disabled() -> bool:
    value = os.environ.get("CHANX_DISABLE_PLUGINS", "").strip().lower()
    return value in {"1", "true", "yes", "__all__"}


def load_adapters() -> Sequence[FrameworkAdapter]:
    """Installed adapters, loaded once; a broken one is skipped with a warning.

    ``CHANX_DISABLE_PLUGINS=1`` switches them all off.
    """
    global _adapters
    loaded = _adapters
    if loaded is None:
        with _lock:
            loaded = _adapters = _adapters if _adapters is not None else _discover()
    return loaded


def _discover() -> tuple[FrameworkAdapter, ...]:
    if _plugins_disabled():
        return ()
    found: list[FrameworkAdapter] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj: Any = entry.load()
            found.append(obj() if isinstance(obj, type) else obj)
        except Exception as exc:
            warnings.warn(
                f"chanx adapter {entry.name!r} ({entry.value}) failed to load: {exc!r}",
                RuntimeWarning,
                stacklevel=3,
            )
    return tuple(found)


def _reset() -> None:
    """Forget loaded adapters (tests)."""
    global _adapters
    with _lock:
        _adapters = None


def resolve_channel_layer(alias: str, scope: Scope | None = None) -> ChannelLayer:
    """The layer for ``alias``, as the framework serving ``scope`` names it.

    Order: the adapter that routed ``scope``; a layer registered with
    ``register_channel_layer``; without a scope, any adapter whose framework is configured
    (Django's ``CHANNEL_LAYERS``); finally Chanx's registry, whose ``"default"`` is the
    in-memory layer.
    """
    from chanx.core.layers._registry import get_channel_layer, lookup_channel_layer

    adapters = load_adapters()
    if scope is not None:
        for adapter in adapters:
            if adapter.handles_scope(scope):
                layer = adapter.get_channel_layer(alias)
                if layer is not None:
                    return layer
    layer = lookup_channel_layer(alias)
    if layer is not None:
        return layer
    if scope is None:
        for adapter in adapters:
            layer = adapter.get_channel_layer(alias)
            if layer is not None:
                return layer
    return get_channel_layer(alias)
