"""Admitting a connection: origin, capacity, authentication, per-key limits, groups.

Everything here runs before accept, in this order, and a refusal at any step means the
connection never reaches a handler or a group. Refusals a client can act on are one
WARNING line each (no traceback): they are about the client or the deployment, not bugs.

These are functions over the consumer (what they read and set is `Admitted`) and its
`Connection`; the options and the hooks (`uses_cookies`, `is_same_origin`,
`connection_key`) are the consumer's own.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, Protocol

from chanx.core._auth import AuthResult, BaseAuthenticator
from chanx.core._connection import Connection
from chanx.core._errors import ErrorCode
from chanx.core._handshake import reject
from chanx.core._limits import POLICY_VIOLATION, TRY_AGAIN_LATER, ConnectionCounter, origin_allowed
from chanx.core._scope import get_header
from chanx.core.layers import ChannelLayer, require_valid_group_name
from chanx.core.types import Scope

__all__ = [
    "INVALID_GROUP_NAME",
    "INVALID_GROUP_NAME_CODE",
    "Admitted",
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


class Admitted(Protocol):
    """The consumer, as admission sees it: its options and hooks, and what it records."""

    scope: Scope
    user: Any
    auth_result: AuthResult | None
    channel_layer: ChannelLayer | None
    channel_name: str | None
    _joined: dict[str, None]
    _slot_key: Hashable | None

    @property
    def authenticator_class(self) -> type[BaseAuthenticator] | None:
        """Runs before accept."""

    @property
    def allowed_origins(self) -> Sequence[str] | None:
        """Browser origins allowed to connect."""

    @property
    def max_connections(self) -> int | None:
        """Open connections of the class per process."""

    @property
    def max_connections_per_key(self) -> int | None:
        """Open connections of the class per `connection_key`."""

    @property
    def send_auth_error(self) -> bool:
        """Send an error frame before closing a rejected socket."""

    @property
    def reject_in_handshake(self) -> bool:
        """Deny with HTTP 401/403 instead of accept-and-close."""

    def uses_cookies(self) -> bool:
        """Whether a browser's cookies may authenticate this connection."""

    def is_same_origin(self, origin: str) -> bool:
        """Whether the page at ``origin`` belongs to this site."""

    def connection_key(self) -> Hashable | None:
        """What ``max_connections_per_key`` counts by."""

    async def get_groups(self) -> Sequence[str]:
        """Groups to join before accept."""


async def admit(consumer: Admitted, connection: Connection, owner: type) -> bool:
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


def release_slots(consumer: Admitted, owner: type) -> None:
    """Give back the slots `admit` took."""
    connections.release(owner)
    if consumer._slot_key is not None:
        connections.release(consumer._slot_key)
        consumer._slot_key = None


async def _origin_passes(consumer: Admitted, connection: Connection) -> bool:
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


async def _acquire_key_slot(consumer: Admitted, connection: Connection, owner: type) -> bool:
    limit = consumer.max_connections_per_key
    if limit is None:
        return True
    key = consumer.connection_key()
    if key is None:
        return True
    slot = (owner, key)
    if not connections.try_acquire(slot, limit):
        logger.warning(
            "%s refused a connection: %d already open for one key",
            type(consumer).__qualname__,
            limit,
        )
        detail = "too many connections for this client"
        await _refuse(consumer, connection, TRY_AGAIN_LATER, detail)
        return False
    consumer._slot_key = slot
    return True


async def _authenticate(consumer: Admitted, connection: Connection) -> bool:
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


async def join_or_refuse(consumer: Admitted, connection: Connection, layer: ChannelLayer) -> bool:
    """Join the initial groups on ``layer``; False when the connection was refused instead.

    An invalid group name closes with 4400. A layer that fails (down, out of memory)
    refuses with 1013 "try again later" (HTTP 503 in the handshake). A failing
    ``get_groups`` is a bug and propagates.
    """
    groups = list(await consumer.get_groups())
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
            return False
    try:
        consumer.channel_layer = layer
        name = consumer.channel_name = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, name)
            consumer._joined[group] = None
    except Exception as exc:
        logger.warning(
            "%s refused a connection with 1013: the channel layer failed (%s: %s)",
            type(consumer).__qualname__,
            type(exc).__name__,
            exc,
        )
        detail = "channel layer unavailable; try again later"
        await _refuse(consumer, connection, TRY_AGAIN_LATER, detail)
        return False
    return True


async def _refuse(
    consumer: Admitted,
    connection: Connection,
    code: int,
    reason: str,
    error_code: str | None = ErrorCode.OVERLOADED,
) -> None:
    connection.closed = True
    await reject(
        consumer.scope,
        connection.send,
        code=code,
        reason=reason,
        error_code=error_code if consumer.send_auth_error else None,
        in_handshake=consumer.reject_in_handshake,
    )
