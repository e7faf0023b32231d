"""A Django ``HttpRequest`` built from a WebSocket handshake scope.

DRF authentication and permission classes expect a request: the handshake is an HTTP GET,
so it becomes one, with the headers, cookies and query string of the scope. The session and
the user come from Channels' middleware when present, else lazily from the session cookie,
so the database is touched only if an authentication or permission class asks.
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import io
from importlib import import_module
from typing import Any

from chanx.core.types import Scope
from django.conf import settings
from django.contrib import auth
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

__all__ = ["handshake_request"]

_HTTP_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _session_from_cookie(request: HttpRequest) -> Any:
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if key is None:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(key)  # loads lazily, on first access


def handshake_request(
    scope: Scope,
    *,
    token_query_param: str | None = None,
    token_keyword: str = "Token",
) -> HttpRequest:
    """Return the handshake of ``scope`` as a GET ``HttpRequest``.

    Args:
        scope: The websocket scope.
        token_query_param: Query parameter whose value becomes an
            ``Authorization: <token_keyword> <value>`` header when the client sent none
            (browsers cannot set headers on a WebSocket).
        token_keyword: The scheme word DRF's token authentication expects.
    """
    scheme = _HTTP_SCHEMES.get(str(scope.get("scheme", "ws")), "http")
    request = ASGIRequest(dict(scope, type="http", method="GET", scheme=scheme), io.BytesIO())
    if token_query_param and "HTTP_AUTHORIZATION" not in request.META:
        token = request.GET.get(token_query_param)
        if token:
            request.META["HTTP_AUTHORIZATION"] = f"{token_keyword} {token}"
    session = scope.get("session")
    if session is None:
        session = _session_from_cookie(request)
    if session is not None:
        request.session = session
    user = scope.get("user")
    if user is not None:
        request.user = user
    elif session is not None:
        # Resolved only if a class reads request.user: a DB query when the session is real.
        request.user = SimpleLazyObject(lambda: auth.get_user(request))
    return request
