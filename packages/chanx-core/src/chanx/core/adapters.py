"""What an adapter (or any tool reading consumers) builds on: the public extension surface.

A framework adapter implements `FrameworkAdapter` and registers it under the
``chanx.adapters`` entry point group; documentation tools and test helpers read a
consumer's handlers through `routes_of`. See docs/writing-an-adapter.md.
"""

from __future__ import annotations

from chanx.core._adapters import (
    ENTRY_POINT_GROUP,
    FrameworkAdapter,
    WebsocketRoute,
    adapter_for_scope,
    load_adapters,
)
from chanx.core._plugins import DISABLE_PLUGINS_ENV, plugins_disabled
from chanx.core._routing import ConsumerRoutes, Handler, RouteTable, routes_of
from chanx.core._templates import route_template

__all__ = [
    "DISABLE_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "ConsumerRoutes",
    "FrameworkAdapter",
    "Handler",
    "RouteTable",
    "WebsocketRoute",
    "adapter_for_scope",
    "load_adapters",
    "plugins_disabled",
    "route_template",
    "routes_of",
]
