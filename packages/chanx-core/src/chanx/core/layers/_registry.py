"""Channel layers by alias, and layer URLs resolved through the ``chanx.layers`` entry points."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast
from urllib.parse import urlsplit

from chanx.core._plugins import plugins_disabled
from chanx.core.layers._base import ChannelLayer

__all__ = [
    "get_channel_layer",
    "lookup_channel_layer",
    "register_channel_layer",
    "registered_channel_layers",
    "unregister_channel_layer",
]

logger = logging.getLogger("chanx.layers")

ENTRY_POINT_GROUP = "chanx.layers"

LayerFactory = Callable[..., ChannelLayer]

# Every scheme but core's own ``memory`` comes from an installed ``chanx.layers`` entry point
# (one list: the backends' own pyproject files). This only names the package to install
# when a well-known scheme is asked for and no installed package serves it.
_PACKAGE_FOR_SCHEME: dict[str, str] = {
    "redis": "chanx-redis",
    "rediss": "chanx-redis",
    "redis+sentinel": "chanx-redis",
    "redis+cluster": "chanx-redis",
    "amqp": "chanx-rabbitmq",
    "amqps": "chanx-rabbitmq",
}

_lock = threading.RLock()
_layers: dict[str, ChannelLayer] = {}
_factories: dict[str, LayerFactory] = {}
_entry_points: dict[str, EntryPoint] | None = None
_default_logged = False


def get_channel_layer(alias: str = "default") -> ChannelLayer:
    """Return the channel layer registered under ``alias``.

    With nothing registered, alias ``"default"`` is an `InMemoryChannelLayer`, created on
    first use (fine for development and tests, but it reaches only this process).

    Raises:
        LookupError: No layer is registered under ``alias`` (and it is not ``"default"``).
    """
    layer = _layers.get(alias)
    if layer is not None:
        return layer
    with _lock:
        layer = _layers.get(alias)
        if layer is not None:
            return layer
        if alias != "default":
            raise LookupError(
                f"No channel layer is registered under {alias!r}; register one first with "
                f"register_channel_layer({alias!r}, 'redis://...') or a layer instance"
            )
        from chanx.core.layers._memory import InMemoryChannelLayer

        layer = _layers[alias] = InMemoryChannelLayer()
        global _default_logged
        if not _default_logged:
            _default_logged = True
            logger.info(
                "No channel layer registered as 'default': using the in-memory layer, which "
                "reaches only this process. Call register_channel_layer('default', URL) to "
                "share groups between processes."
            )
        return layer


def register_channel_layer(alias: str, layer: ChannelLayer | str, **options: Any) -> ChannelLayer:
    """Register ``layer`` under ``alias`` and return it, replacing any previous one.

    Args:
        alias: The name consumers use (``channel_layer_alias``), such as ``"default"``.
        layer: A layer instance, stored as is, or a URL such as ``"memory://"`` or
            ``"redis://localhost:6379/0"`` whose scheme names a ``chanx.layers`` entry point.
        **options: Keyword options for the layer built from a URL.

    Raises:
        ValueError: The URL's scheme is not known.
        ImportError: No installed package serves the scheme (the message names the one to
            install, e.g. ``chanx-redis`` for ``redis://``), or its backend fails to import.
    """
    if not isinstance(alias, str) or not alias:
        raise TypeError(f"Layer alias must be a non-empty string, but got {alias!r}")
    if isinstance(layer, str):
        layer = _factory_for(layer)(layer, **options)
    elif options:
        raise TypeError(
            f"Options only apply to a layer URL, but got a layer instance {layer!r} "
            f"with options {sorted(options)}"
        )
    elif not callable(getattr(layer, "send", None)):
        raise TypeError(f"Expected a channel layer or a layer URL, but got {layer!r}")
    with _lock:
        _layers[alias] = layer
    return layer


def registered_channel_layers() -> dict[str, ChannelLayer]:
    """A snapshot of the registered layers by alias (the default one only once created)."""
    with _lock:
        return dict(_layers)


def lookup_channel_layer(alias: str) -> ChannelLayer | None:
    """The layer registered under ``alias``, without creating the default one."""
    return _layers.get(alias)


def unregister_channel_layer(alias: str) -> ChannelLayer | None:
    """Forget the layer registered under ``alias`` and return it (it is not closed)."""
    with _lock:
        return _layers.pop(alias, None)


def _factory_for(url: str) -> LayerFactory:
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise ValueError(f"Expected a layer URL such as 'memory://', but got {url!r}")
    with _lock:
        factory = _factories.get(scheme)
        if factory is not None:
            return factory
        if scheme == "memory":  # core's own layer: no plugin, so it works with plugins off
            from chanx.core.layers._memory import InMemoryChannelLayer

            factory = _factories[scheme] = InMemoryChannelLayer.from_url
            return factory
        found = _discover().get(scheme)
        if found is None:
            package = _PACKAGE_FOR_SCHEME.get(scheme)
            if package is not None:
                raise ImportError(
                    f"No installed channel layer serves the {scheme!r} scheme of {url!r}; "
                    f"install it with: pip install {package}"
                )
            known = sorted({"memory", *_discover()})
            raise ValueError(
                f"Unknown channel layer scheme {scheme!r} in {url!r}; known schemes: "
                f"{', '.join(known)}"
            )
        try:
            loaded = found.load()
        except ImportError as error:
            package = _PACKAGE_FOR_SCHEME.get(scheme)
            hint = f"pip install {package}" if package else "install the package that provides it"
            raise ImportError(
                f"The {scheme!r} channel layer ({found.value}) could not be imported: {error}. "
                f"Are it and its dependencies installed? {hint}"
            ) from error
        factory = _factories[scheme] = cast(LayerFactory, loaded)
        return factory


def _discover() -> dict[str, EntryPoint]:
    """Installed ``chanx.layers`` entry points by scheme, minus those switched off."""
    global _entry_points
    if _entry_points is None:
        disabled = plugins_disabled()
        discovered: dict[str, EntryPoint] = {}
        if disabled is not True:
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                name = entry_point.name.lower()
                if name in disabled:
                    continue
                if name in discovered and discovered[name].value != entry_point.value:
                    logger.warning(
                        "Two channel layers claim the scheme %r: %s and %s; using the first",
                        name,
                        discovered[name].value,
                        entry_point.value,
                    )
                    continue
                discovered[name] = entry_point
        _entry_points = discovered
    return _entry_points


def _reset() -> None:
    """Forget every registered layer and cached plugin (for tests)."""
    global _entry_points, _default_logged
    with _lock:
        _layers.clear()
        _factories.clear()
        _entry_points = None
        _default_logged = False
