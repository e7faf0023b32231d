"""Reading headers, query parameters and cookies from an ASGI scope without a framework."""

from __future__ import annotations

from urllib.parse import parse_qsl

from chanx.core.types import Scope

__all__ = ["get_cookie", "get_header", "get_query_param"]


def get_header(scope: Scope, name: str) -> str | None:
    """First value of header ``name`` (case-insensitive), decoded as latin-1."""
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


def get_query_param(scope: Scope, name: str) -> str | None:
    """First value of query parameter ``name``."""
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key == name:
            return value
    return None


def get_cookie(scope: Scope, name: str) -> str | None:
    """Value of cookie ``name`` from the ``Cookie`` header."""
    header = get_header(scope, "cookie")
    if header is None:
        return None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None
