"""Admitting a connection: origin, capacity, authentication, per-key limits, groups.

Everything here runs before accept, in this order, and a refusal at any step means the
connection never reaches a handler or a group. Refusals a client can act on are one
WARNING line each (no traceback): they are about the client or the deployment, not bugs.

The consumer inherits `AdmissionPolicy` (the options and the hooks users override:
`uses_cookies`, `is_same_origin`, `connection_key`); the steps are functions over the
consumer (`Admitted`) and its `Connection`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from chanx.core._auth import AuthResult, BaseAuthenticator
from chanx.core._connection import Connection
from chanx.core._errors import ErrorCode
from chanx.core._handshake import reject
from chanx.core._limits import (
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    ConnectionCounter,
    origin_allowed,
    same_origin,
)
from chanx.core._scope import get_header
from chanx.core.layers import ChannelLayer, require_valid_group_name
from chanx.core.types import Scope

__all__ = [
    "INVALID_GROUP_NAME",
    "INVALID_GROUP_NAME_CODE",
    "AdmissionPolicy",
    "admit",
    "connections",
    "join_or_refuse",
    "release_slots",
]

logger = logging.getLogger("chanx.consumer")

INTERNAL_ERROR = 1011
#: Close code for a connection whose groups (from ``get_groups``) have an invalid name.
INVALID_GROUP_NAME = 4400
#: Error-frame code sent before that close.
INVALID_GROUP_NAME_CODE = "invalid_group_name"

#: Open connections per consumer class, and per (class, key) with a per-key limit.
connections = ConnectionCounter()


class AdmissionPolicy:
    """Who may connect to a consumer: its admission options and hooks (a base class).

    Class options:
        authenticator_class: Runs before accept; a rejection closes with 4401/4403.
        allowed_origins: Origins (exact, ``https://*.example.com`` globs or ``*``) a browser
            may connect from; others are denied in the handshake (1008). None: pages of
            the same origin only when cookies may authenticate (`uses_cookies`), else
            any. ``["*"]``: no check.
        max_connections: Open connections of this class per process; more are closed
            with 1013 after an ``overloaded`` error frame. None: no limit.
        max_connections_per_key: Open connections of this class per process and per
            `connection_key` (the user, else the client address); more get 1013 too.
            None: no limit.
        reject_in_handshake: Deny failed authentication with HTTP 401/403 during the
            handshake instead of accepting and closing with 4401/4403 (browsers cannot
            read the reason of a handshake denial).
        send_auth_error: Send an error frame before closing a rejected socket.
    """

    authenticator_class: ClassVar[type[BaseAuthenticator] | None] = None
    allowed_origins: ClassVar[Sequence[str] | None] = None
    max_connections: ClassVar[int | None] = None
    max_connections_per_key: ClassVar[int | None] = None
    reject_in_handshake: ClassVar[bool] = False
    send_auth_error: ClassVar[bool] = True

    scope: Scope
    user: Any
    auth_result: AuthResult | None  # set by `admit` once authenticated
    _slot_key: Hashable | None = None  # set by `admit` under max_connections_per_key

    def uses_cookies(self) -> bool:
        """Whether a browser's cookies may authenticate this connection.

        Such a consumer refuses cross-origin handshakes when ``allowed_origins`` is None
        (cross-site WebSocket hijacking). Default: the authenticator declares a cookie
        credential (see `BaseAuthenticator.reads_cookies`); without an authenticator, a
        ``scope["user"]`` set by middleware counts, since a session cookie may be behind it.
        """
        authenticator = self.authenticator_class
        if authenticator is None:
            return self.scope.get("user") is not None
        return authenticator.reads_cookies()

    def is_same_origin(self, origin: str) -> bool:
        """Whether the page at ``origin`` belongs to this site (default: the Host header).

        Consulted for cookie-authenticated consumers without ``allowed_origins``. Host and
        port are compared, not the scheme (a TLS-terminating proxy serves ``https`` pages
        over plain ``ws``); ``null`` never matches.
        """
        return same_origin(origin, get_header(self.scope, "host"))

    def connection_key(self) -> Hashable | None:
        """What ``max_connections_per_key`` counts by (None: this connection is not counted).

        Default: the authenticated user (its ``pk`` or ``id`` when it has one), else the
        client's address. Behind a proxy the address is the proxy's unless the server
        trusts its forwarded headers (uvicorn ``--forwarded-allow-ips``).
        """
        user = self.user
        if user is not None and getattr(user, "is_authenticated", True):
            for attribute in ("pk", "id"):
                value = getattr(user, attribute, None)
                if value is not None:
                    return ("user", value)
            if isinstance(user, Hashable):
                return ("user", user)
        client = self.scope.get("client")
        return ("client", client[0]) if client else None


async def admit(consumer: AdmissionPolicy, connection: Connection, owner: type) -> bool:
    """Origin, capacity and authentication; True holds this connection's slots."""
    if not await _origin_passes(consumer, connection):
        return False
    if not connections.try_acquire(owner, consumer.max_connections):
        await _refuse(consumer, connection, TRY_AGAIN_LATER, "server is at capacity")
        return False
    admitted = False
    try:
        admitted = await _authenticate(consumer, connection)
        admitted = admitted and await _acquire_key_slot(consumer, connection, owner)
    finally:
        if not admitted:
            connections.release(owner)
    return admitted


def release_slots(consumer: AdmissionPolicy, owner: type) -> None:
    """Give back the slots `admit` took."""
    connections.release(owner)
    if consumer._slot_key is not None:
        connections.release(consumer._slot_key)
        consumer._slot_key = None


async def _origin_passes(consumer: AdmissionPolicy, connection: Connection) -> bool:
    origin = get_header(consumer.scope, "origin")
    if origin is None:  # not a browser: Origin checks protect browsers only
        return True
    if consumer.allowed_origins is not None:
        if origin_allowed(origin, consumer.allowed_origins):
            return True
        why = "is not in allowed_origins"
    elif not consumer.uses_cookies() or consumer.is_same_origin(origin):
        return True
    else:
        why = "is cross-origin and cookies authenticate this consumer"
    logger.warning("%s denied origin %r: it %s", type(consumer).__qualname__, origin, why)
    connection.closed = True
    await connection.send({"type": "websocket.close", "code": POLICY_VIOLATION})
    return False


async def _acquire_key_slot(consumer: AdmissionPolicy, connection: Connection, owner: type) -> bool:
    limit = consumer.max_connections_per_key
    if limit is None:
        return True
    key = consumer.connection_key()
    if key is None:
        return True
    slot = (owner, key)
    if not connections.try_acquire(slot, limit):
        logger.warning(
            "%s refused a connection: %d already open for key %.80r",
            type(consumer).__qualname__,
            limit,
            key,
        )
        detail = "too many connections for this client"
        await _refuse(consumer, connection, TRY_AGAIN_LATER, detail)
        return False
    consumer._slot_key = slot
    return True


async def _authenticate(consumer: AdmissionPolicy, connection: Connection) -> bool:
    authenticator_class = consumer.authenticator_class
    if authenticator_class is None:
        return True
    try:
        result = await authenticator_class().authenticate(consumer.scope)
    except Exception:
        logger.exception("authenticator %s raised", authenticator_class.__qualname__)
        await _refuse(consumer, connection, INTERNAL_ERROR, "internal error", None)
        return False
    if not result.ok:
        error = ErrorCode.FORBIDDEN if result.close_code == 4403 else ErrorCode.UNAUTHENTICATED
        reason = result.reason or "authentication failed"
        await _refuse(consumer, connection, result.close_code, reason, error)
        return False
    consumer.auth_result = result
    consumer.user = result.user
    return True


async def join_or_refuse(
    consumer: AdmissionPolicy,
    connection: Connection,
    layer: ChannelLayer,
    groups: Sequence[str],
    joined: dict[str, None],
) -> tuple[str | None, bool]:
    """Join ``groups`` on ``layer``, recording each in ``joined``.

    Returns the new channel's name (None if none was made) and whether the connection
    may go on; when not, it was refused: an invalid group name closes with 4400, a layer
    that fails (down, out of memory) with 1013 "try again later" (HTTP 503 in the
    handshake). Groups joined before a failure stay in ``joined``, for the cleanup.
    """
    for group in groups:
        try:
            require_valid_group_name(group)
        except TypeError as exc:
            logger.warning("%s refused a connection: %s", type(consumer).__qualname__, exc)
            await _refuse(
                consumer,
                connection,
                INVALID_GROUP_NAME,
                "invalid group name",
                INVALID_GROUP_NAME_CODE,
            )
            return None, False
    name: str | None = None
    try:
        name = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, name)
            joined[group] = None
    except Exception as exc:
        logger.warning(
            "%s refused a connection with 1013: the channel layer failed (%s: %s)",
            type(consumer).__qualname__,
            type(exc).__name__,
            exc,
        )
        detail = "channel layer unavailable; try again later"
        await _refuse(consumer, connection, TRY_AGAIN_LATER, detail)
        return name, False
    return name, True


async def _refuse(
    consumer: AdmissionPolicy,
    connection: Connection,
    code: int,
    reason: str,
    error_code: str | None = ErrorCode.OVERLOADED,
) -> None:
    connection.closed = True
    try:
        await reject(
            consumer.scope,
            connection.send,
            code=code,
            reason=reason,
            error_code=error_code if consumer.send_auth_error else None,
            in_handshake=consumer.reject_in_handshake,
        )
    except Exception:  # the server's way of saying the client is gone (it gave up waiting)
        connection.client_left = True
        logger.debug("the client left before its refusal was sent", exc_info=True)
