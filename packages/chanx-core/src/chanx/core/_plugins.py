"""``CHANX_DISABLE_PLUGINS``: the one switch for entry-point plugins (adapters and layers)."""

from __future__ import annotations

import os
from typing import Literal

__all__ = ["DISABLE_PLUGINS_ENV", "plugins_disabled"]

DISABLE_PLUGINS_ENV = "CHANX_DISABLE_PLUGINS"
_ALL = frozenset({"1", "true", "yes", "__all__"})


def plugins_disabled() -> Literal[True] | frozenset[str]:
    """True when every plugin is off, else the entry point names switched off (lowercase).

    ``CHANX_DISABLE_PLUGINS=1`` (or ``true``, ``yes``, ``__all__``) switches every
    ``chanx.adapters`` and ``chanx.layers`` plugin off; ``redis,django`` only those names.
    """
    value = os.environ.get(DISABLE_PLUGINS_ENV, "").strip().lower()
    if value in _ALL:
        return True
    return frozenset(name.strip() for name in value.split(",") if name.strip())
