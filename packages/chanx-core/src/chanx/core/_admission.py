"""Admitting a connection: origin, capacity, authentication, per-key limits, groups.

Everything here runs before accept, in this order, and a refusal at any step means the
connection never reaches a handler or a group. Refusals a client can act on are one
WARNING line each (no traceback): they are about the client or the deployment, not bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from chanx.core._auth import AuthResult, BaseAuthenticator
from chanx.core._errors import ErrorCode
from chanx.core._groups import LayerMessaging
from chanx.core._handshake import reject
from chanx.core._limits import (
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    ConnectionCounter,
    origin_allowed,
    same_origin,
)
from chanx.core._scope import get_header
from chanx.core.layers import require_valid_group_name
from chanx.core.types import Send

__all__ = ["INVALID_GROUP_NAME", "INVALID_GROUP_NAME_CODE", "Admission", "connections"]

logger = logging.getLogger("chanx.consumer")

INTERNAL_ERROR = 1011
#: Close code for a connection whose groups (from ``get_groups``) have an invalid name.
INVALID_GROUP_NAME = 4400
#: Error-frame code sent before that close.
INVALID_GROUP_NAME_CODE = "invalid_group_name"

#: Open connections per consumer class, and per (class, key) with a per-key limit.
connections = ConnectionCounter()


class Admission(LayerMessaging):
    """The handshake half of a consumer (a mixin): who may connect, and joining groups."""

    authenticator_class: ClassVar[type[BaseAuthenticator] | None] = None
    reject_in_handshake: ClassVar[bool] = False
    send_auth_error: ClassVar[bool] = True
    allowed_origins: ClassVar[Sequence[str] | None] = None
    max_connections: ClassVar[int | None] = None
    max_connections_per_key: ClassVar[int | None] = None

    user: Any
    auth_result: AuthResult | None
    _send: Send
    _closed: bool
    _slot_key: Hashable | None = None

    # -- hooks -------------------------------------------------------------------------

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

    # -- the steps ---------------------------------------------------------------------

    async def _admit_connection(self, owner: type) -> bool:
        """Origin, capacity and authentication; True holds this connection's slots."""
        if not await self._origin_passes():
            return False
        if not connections.try_acquire(owner, self.max_connections):
            await self._reject(TRY_AGAIN_LATER, "server is at capacity", ErrorCode.OVERLOADED)
            return False
        admitted = False
        try:
            admitted = await self._authenticate() and await self._acquire_key_slot(owner)
        finally:
            if not admitted:
                connections.release(owner)
        return admitted

    def _release_slots(self, owner: type) -> None:
        connections.release(owner)
        if self._slot_key is not None:
            connections.release(self._slot_key)
            self._slot_key = None

    async def _origin_passes(self) -> bool:
        origin = get_header(self.scope, "origin")
        if origin is None:  # not a browser: Origin checks protect browsers only
            return True
        if self.allowed_origins is not None:
            if origin_allowed(origin, self.allowed_origins):
                return True
            why = "is not in allowed_origins"
        elif not self.uses_cookies() or self.is_same_origin(origin):
            return True
        else:
            why = "is cross-origin and cookies authenticate this consumer"
        logger.warning("%s denied origin %r: it %s", type(self).__qualname__, origin, why)
        self._closed = True
        await self._send({"type": "websocket.close", "code": POLICY_VIOLATION})
        return False

    async def _acquire_key_slot(self, owner: type) -> bool:
        limit = self.max_connections_per_key
        if limit is None:
            return True
        key = self.connection_key()
        if key is None:
            return True
        slot = (owner, key)
        if not connections.try_acquire(slot, limit):
            logger.warning(
                "%s refused a connection: %d already open for key %.80r",
                type(self).__qualname__,
                limit,
                key,
            )
            detail = "too many connections for this client"
            await self._reject(TRY_AGAIN_LATER, detail, ErrorCode.OVERLOADED)
            return False
        self._slot_key = slot
        return True

    async def _authenticate(self) -> bool:
        authenticator_class = self.authenticator_class
        if authenticator_class is None:
            return True
        try:
            result = await authenticator_class().authenticate(self.scope)
        except Exception:
            logger.exception("authenticator %s raised", authenticator_class.__qualname__)
            await self._reject(INTERNAL_ERROR, "internal error", None)
            return False
        if not result.ok:
            error = ErrorCode.FORBIDDEN if result.close_code == 4403 else ErrorCode.UNAUTHENTICATED
            await self._reject(result.close_code, result.reason or "authentication failed", error)
            return False
        self.auth_result = result
        self.user = result.user
        return True

    async def _join_or_refuse(self) -> bool:
        """Join the initial groups; False when the connection was refused instead.

        An invalid group name closes with 4400. A layer that fails (down, out of memory)
        refuses with 1013 "try again later" (HTTP 503 in the handshake). A failing
        ``get_groups`` is a bug and propagates.
        """
        # the instance's alias: as_asgi(channel_layer_alias=...) may have overridden it
        layer = self.get_layer(self.scope, alias=self.channel_layer_alias)
        if layer is None:
            return True
        groups = list(await self.get_groups())
        for group in groups:
            try:
                require_valid_group_name(group)
            except TypeError as exc:
                logger.warning("%s refused a connection: %s", type(self).__qualname__, exc)
                await self._reject(
                    INVALID_GROUP_NAME, "invalid group name", INVALID_GROUP_NAME_CODE
                )
                return False
        try:
            self.channel_layer = layer
            name = self.channel_name = await layer.new_channel()
            for group in groups:
                await layer.group_add(group, name)
                self._joined[group] = None
        except Exception as exc:
            logger.warning(
                "%s refused a connection with 1013: the channel layer failed (%s: %s)",
                type(self).__qualname__,
                type(exc).__name__,
                exc,
            )
            detail = "channel layer unavailable; try again later"
            await self._reject(TRY_AGAIN_LATER, detail, ErrorCode.OVERLOADED)
            return False
        return True

    async def _reject(self, code: int, reason: str, error_code: str | None) -> None:
        self._closed = True
        await reject(
            self.scope,
            self._send,
            code=code,
            reason=reason,
            error_code=error_code if self.send_auth_error else None,
            in_handshake=self.reject_in_handshake,
        )
