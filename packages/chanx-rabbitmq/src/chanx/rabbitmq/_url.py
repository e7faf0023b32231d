"""Layer options in an ``amqp://`` URL's query string, split from the broker's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["split_url"]

# Options the layer reads; every other query parameter is the AMQP client's (heartbeat, ...).
_LAYER_OPTIONS: dict[str, Callable[[str], Any]] = {
    "prefix": str,
    "capacity": int,
    "expiry": float,
    "group_expiry": float,
    "queue_capacity": int,
    "queue_expiry": float,
    "connect_timeout": float,
    "prefetch": int,
}


def split_url(url: str) -> tuple[str, dict[str, Any]]:
    """Return the broker URL without the layer's options, and those options."""
    parts = urlsplit(url)
    if parts.scheme not in {"amqp", "amqps"}:
        raise ValueError(f"expected an 'amqp://' or 'amqps://' URL, but got {url!r}")
    options: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        convert = _LAYER_OPTIONS.get(key)
        if convert is None:
            rest.append((key, value))
            continue
        try:
            options[key] = convert(value)
        except ValueError:
            raise ValueError(
                f"option {key!r} in {url!r} must be a {convert.__name__}, but got {value!r}"
            ) from None
    return urlunsplit(parts._replace(query=urlencode(rest))), options
