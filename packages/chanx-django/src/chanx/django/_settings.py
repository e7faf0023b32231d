"""The ``CHANX`` Django setting, read each time it is used.

Reading on use (not at import) keeps ``override_settings(CHANX=...)`` working in tests and
lets a project configure Django after importing its consumers.
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["ChanxSettings", "chanx_settings"]


@dataclass(frozen=True, slots=True)
class ChanxSettings:
    """The keys of ``settings.CHANX``, with their defaults.

    Attributes:
        SEND_COMPLETION: Default of ``send_completion`` for consumers that do not set it.
        SEND_AUTH_ERROR: Default of ``send_auth_error``: send an error frame before closing
            a rejected socket.
        REJECT_IN_HANDSHAKE: Default of ``reject_in_handshake``: deny failed
            authentication with HTTP 401/403 instead of accept-then-close.
        SEND_AUTHENTICATION_MESSAGE: After a successful authentication, send an
            ``{"action": "authenticated", ...}`` frame right after accept.
        ASYNCAPI_TITLE: ``info.title`` of the served AsyncAPI document.
        ASYNCAPI_VERSION: ``info.version`` of the served AsyncAPI document.
        ASYNCAPI_DESCRIPTION: ``info.description`` of the served AsyncAPI document.
        ASYNCAPI_SERVERS: Server URLs for the document (default: the requested host).
    """

    SEND_COMPLETION: bool = False
    SEND_AUTH_ERROR: bool = True
    REJECT_IN_HANDSHAKE: bool = False
    SEND_AUTHENTICATION_MESSAGE: bool = False
    ASYNCAPI_TITLE: str | None = None
    ASYNCAPI_VERSION: str | None = None
    ASYNCAPI_DESCRIPTION: str | None = None
    ASYNCAPI_SERVERS: tuple[str, ...] | list[str] | None = None


_KNOWN = frozenset(f.name for f in fields(ChanxSettings))
_DEFAULTS = ChanxSettings()


def parse_chanx_settings(raw: object) -> ChanxSettings:
    """Validate a ``CHANX`` value; unknown keys are an error, not silently ignored."""
    if raw is None:
        return _DEFAULTS
    if not isinstance(raw, Mapping):
        raise TypeError(f"settings.CHANX must be a dict, but got {raw!r}")
    unknown = sorted(str(key) for key in raw if key not in _KNOWN)
    if unknown:
        raise ValueError(
            f"settings.CHANX has unknown keys {unknown}; expected some of {sorted(_KNOWN)}"
        )
    return ChanxSettings(**raw)


# (the CHANX object last parsed, its result): override_settings swaps the object, so an
# identity check is enough to notice a change without parsing on every connection.
_last: tuple[object, ChanxSettings] = (None, _DEFAULTS)


def chanx_settings() -> ChanxSettings:
    """The current ``settings.CHANX`` merged over the defaults (defaults if unconfigured)."""
    global _last
    from django.conf import settings

    if not settings.configured:
        return _DEFAULTS
    raw = getattr(settings, "CHANX", None)
    cached_raw, parsed = _last
    if raw is not cached_raw:
        parsed = parse_chanx_settings(raw)
        _last = (raw, parsed)
    return parsed
