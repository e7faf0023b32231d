"""The adapter contract, and the adapters installed through the ``chanx.adapters`` entry points.

An adapter is what core knows of a web framework: whether a connection or an app is the
framework's, the path parameters of a connection, the framework's channel layers (Django:
``CHANNEL_LAYERS``) and the Chanx routes of an app, as normalised ``{name}`` templates.
Core itself reads no framework's scope keys and parses route syntax in one place
(`chanx.core.adapters.route_template`).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from chanx.core._plugins import plugins_disabled
from chanx.core._templates import route_template
from chanx.core.types import Scope

if TYPE_CHECKING:
    from chanx.core.layers import ChannelLayer

__all__ = [
    "ENTRY_POINT_GROUP",
    "FrameworkAdapter",
    "WebsocketRoute",
    "adapter_for_scope",
    "load_adapters",
]

ENTRY_POINT_GROUP = "chanx.adapters"


@dataclass(frozen=True, slots=True)
class WebsocketRoute:
    """A websocket route of an app: its path template and the consumer class behind it.

    ``path`` may be given in any syntax `route_template` reads (``/ws/{id:int}``,
    ``ws/<int:id>/``, a regex); it is stored as a ``/ws/{id}`` template, with ``params``
    mapping each parameter to its type. Adapters that already normalised the path pass
    ``params`` themselves.
    """

    path: str
    consumer: type[Any]
    name: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template, found = route_template(self.path)
        if not template.startswith("/"):
            template = "/" + template
        object.__setattr__(self, "path", template)
        object.__setattr__(self, "params", {**found, **self.params})


@runtime_checkable
class FrameworkAdapter(Protocol):
    """What core asks of a web framework; every method may decline (False, None, empty).

    Register an implementation under the ``chanx.adapters`` entry point group (the entry
    point names the class or an instance). Core loads adapters lazily, once per process,
    and skips one that fails to load with a warning.
    """

    #: Short name of the framework, shown in error messages ("fastapi", "django").
    name: str

    def handles_scope(self, scope: Scope) -> bool:
        """Whether this connection was routed by the adapter's framework.

        Asked once per mounted app, on its first connection, for consumers written
        against ``chanx.core`` (a framework's own consumer class names its adapter).
        """
        ...

    def path_params(self, scope: Scope) -> Mapping[str, Any]:
        """The path parameters the framework's router matched for this connection."""
        ...

    def get_channel_layer(self, alias: str) -> ChannelLayer | None:
        """The framework's layer for ``alias``, or None to let Chanx's registry decide."""
        ...

    def handles_app(self, app: object) -> bool:
        """Whether ``app`` is an application (or router) of the adapter's framework."""
        ...

    def websocket_routes(self, app: object) -> Iterable[WebsocketRoute]:
        """The Chanx consumers mounted in ``app``, with normalised path templates."""
        ...

    def override_channel_layer(self, alias: str, layer: ChannelLayer) -> Callable[[], None] | None:
        """Make the framework hand out ``layer`` for ``alias`` (tests); returns the undo.

        None when the framework does not configure ``alias`` (nothing to override).
        """
        ...


_lock = threading.Lock()
_adapters: tuple[FrameworkAdapter, ...] | None = None


def load_adapters() -> Sequence[FrameworkAdapter]:
    """Installed adapters, loaded once; a broken one is skipped with a warning.

    ``CHANX_DISABLE_PLUGINS`` switches them off: ``1``/``true``/``__all__`` all of them,
    a comma-separated list those entry point names.
    """
    global _adapters
    loaded = _adapters
    if loaded is None:
        with _lock:
            loaded = _adapters = _adapters if _adapters is not None else _discover()
    return loaded


def _discover() -> tuple[FrameworkAdapter, ...]:
    disabled = plugins_disabled()
    if disabled is True:
        return ()
    found: list[FrameworkAdapter] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name.lower() in disabled:
            continue
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


def adapter_for_scope(scope: Scope) -> FrameworkAdapter | None:
    """The installed adapter whose framework routed ``scope``, if any."""
    return next((a for a in load_adapters() if a.handles_scope(scope)), None)


def _reset() -> None:
    """Forget loaded adapters (tests)."""
    global _adapters
    with _lock:
        _adapters = None
