"""`AsyncJsonWebsocketConsumer`: the framework-neutral consumer, an ASGI app per route.

One connection flows one way: connect → authenticate → join groups → accept → hook, then
client frames and layer events are served (`chanx.core._connection`) until disconnect,
which cancels in-flight work, leaves the groups and runs the disconnect hook.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, cast

import anyio
from pydantic import ValidationError

from chanx.core._admission import Admission
from chanx.core._app import ConsumerApp
from chanx.core._auth import AuthResult
from chanx.core._connection import ConnectionLoop
from chanx.core._errors import (
    ErrorCode,
    describe_decode_error,
    encode_error,
    extract_ref,
    unknown_action_detail,
)
from chanx.core._handshake import clip_reason
from chanx.core._hardening import PRECHECK_LENGTH, Precheck, may_be_non_finite
from chanx.core._limits import POLICY_VIOLATION, SendWatchdog
from chanx.core._messages import BaseMessage, CompleteMessage, encode_message
from chanx.core._routing import RouteTable, build_routes, defining_namespace
from chanx.core._scope import path_params
from chanx.core.layers import ChannelLayer
from chanx.core.types import Receive, Scope, Send

__all__ = ["AsyncJsonWebsocketConsumer"]

logger = logging.getLogger("chanx.consumer")

INTERNAL_ERROR = 1011
GOING_AWAY = 1006  # the abnormal-closure code servers report for a vanished client


def _client_went_away(exc: BaseException) -> bool:
    # Servers raise an OSError (uvicorn: ClientDisconnected) from send() once the client
    # has gone; a task group (bounded concurrency) may wrap it in an exception group.
    if isinstance(exc, BaseExceptionGroup):
        return all(_client_went_away(inner) for inner in exc.exceptions)
    return isinstance(exc, OSError)


class AsyncJsonWebsocketConsumer(ConnectionLoop, Admission):
    """A typed WebSocket endpoint: decorate methods, mount ``as_asgi()`` on a route.

    Class options:
        channel_layer_alias: Layer alias for groups and events (None: no layer).
        authenticator_class: Runs before accept; a rejection closes with 4401/4403.
        groups: Groups joined before accept (override `get_groups` for dynamic ones).
        subprotocols: Subprotocols this endpoint speaks; the first one the client offers wins.
        send_completion: Send ``{"action": "complete"}`` after every handled frame.
        max_concurrent_frames: Frames handled at once; 1 keeps strict order.
        max_pending_frames: Frames read ahead while a handler runs; when full, reading
            pauses, so the server's flow control slows the client down.
        reject_in_handshake: Deny failed authentication with HTTP 401/403 during the
            handshake instead of accepting and closing with 4401/4403 (browsers cannot
            read the reason of a handshake denial).
        send_auth_error: Send an error frame before closing a rejected socket.
        emits: Messages the server pushes on its own, for documentation.
        allowed_origins: Origins (exact, ``https://*.example.com`` globs or ``*``) a browser
            may connect from; others are denied in the handshake (1008). None: pages of
            the same origin only when cookies may authenticate (`uses_cookies`), else
            any. ``["*"]``: no check.
        max_connections: Open connections of this class per process; more are closed
            with 1013 after an ``overloaded`` error frame. None: no limit.
        max_connections_per_key: Open connections of this class per process and per
            `connection_key` (the user, else the client address); more get 1013 too.
            None: no limit.
        max_frame_bytes: Largest client frame; a larger one closes with 1009, or gets a
            ``frame_too_large`` error frame when ``oversized_frames = "error"``.
        rate_limit: ``(frames_per_second, burst)``; a frame over it gets a
            ``rate_limited`` error frame and is dropped, and ``rate_limit_close_after``
            such frames in a row close the socket with 1008. None: no limit.
        slow_client_timeout: Seconds a send may stay blocked on a client that stopped
            reading before the connection is dropped (code 1008 to the disconnect hook);
            30 by default, so a client that never reads cannot hold a slot. None: wait
            forever; pushes then queue in the layer up to its capacity and the layer
            drops further ones for this connection only.
        max_outbound_events: Opt-in "drop oldest" policy: layer pushes wait in a buffer
            of this size while the client is slow, and the oldest are dropped (counted in
            ``dropped_events``) so it gets the freshest. Costs one task per connection.
    """

    subprotocols: ClassVar[Sequence[str]] = ()
    send_completion: ClassVar[bool] = False
    max_concurrent_frames: ClassVar[int] = 1
    max_pending_frames: ClassVar[int] = 64
    emits: ClassVar[Sequence[type[BaseMessage]]] = ()
    max_frame_bytes: ClassVar[int | None] = 1024 * 1024
    oversized_frames: ClassVar[Literal["close", "error"]] = "close"
    rate_limit: ClassVar[tuple[float, int] | None] = None
    rate_limit_close_after: ClassVar[int] = 20
    # A healthy client's TCP window never stays full this long: a send blocked for 30 s
    # means it stopped reading or vanished without closing (docs/production.md).
    slow_client_timeout: ClassVar[float | None] = 30.0

    _ws_routes: ClassVar[RouteTable]
    _event_routes: ClassVar[RouteTable]
    _validate_frame: ClassVar[staticmethod[[str | bytes], Any]]
    _validate_event: ClassVar[staticmethod[[Any], Any]]
    _precheck_frame: ClassVar[staticmethod[[str | bytes], Any]]
    _float_models: ClassVar[frozenset[type[Any]]]

    scope: Scope
    user: Any
    auth_result: AuthResult | None
    path_params: dict[str, Any]
    channel_layer: ChannelLayer | None
    channel_name: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._compile_routes(defining_namespace())

    @classmethod
    def _compile_routes(cls, namespace: dict[str, Any]) -> None:
        cls._ws_routes = build_routes(cls, "ws", namespace)
        cls._event_routes = build_routes(cls, "event", namespace)
        cls._validate_frame = staticmethod(cls._ws_routes.validate_json)
        cls._validate_event = staticmethod(cls._event_routes.validate_python)
        precheck = Precheck(cls._ws_routes.decoder, cls._ws_routes.models)
        cls._precheck_frame = staticmethod(precheck.validate_json)
        cls._float_models = precheck.float_models

    def __init__(self, **initkwargs: Any) -> None:
        for key, value in initkwargs.items():
            if not hasattr(type(self), key):
                raise TypeError(
                    f"{type(self).__qualname__}.as_asgi() got {key!r}, which is not an "
                    "attribute of the class"
                )
            setattr(self, key, value)
        self.user = None
        self.auth_result = None
        self.path_params = {}
        self.channel_layer = None
        self.channel_name = None
        self._joined: dict[str, None] = {}
        self._accepted = False
        self._closed = False
        self._end_code = 1000
        self._watchdog: SendWatchdog | None = None

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> ConsumerApp:
        """An ASGI app serving this consumer, one instance per connection.

        ``initkwargs`` override class attributes on each instance.
        """
        for key in initkwargs:
            if not hasattr(cls, key):
                raise TypeError(f"{cls.__qualname__}.as_asgi() got unknown option {key!r}")
        return ConsumerApp(cls, initkwargs)

    # -- hooks -------------------------------------------------------------------------

    def select_subprotocol(self, offered: Sequence[str]) -> str | None:
        """Pick the subprotocol to accept from those the client ``offered``."""
        return next((p for p in offered if p in self.subprotocols), None)

    async def on_connect(self) -> None:
        """Called once accepted, before any frame is handled."""

    async def on_disconnect(self, code: int) -> None:
        """Called after the connection ended and the groups were left."""

    # -- the connection ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection."""
        if scope["type"] != "websocket":
            raise RuntimeError(f"expected a websocket scope, but got {scope['type']!r}")
        self.scope = scope
        self._receive = receive
        self._send = send
        self.path_params = path_params(scope)
        self.user = scope.get("user")
        if (await receive())["type"] != "websocket.connect":
            return
        owner = type(self)
        if not await self._admit_connection(owner):
            return
        # The connection is served in this frame rather than in a helper coroutine: each
        # frame on an idle connection's stack stays allocated as long as it is open.
        try:
            if not await self._join_or_refuse():
                return
            await self._send(
                {
                    "type": "websocket.accept",
                    "subprotocol": self.select_subprotocol(scope.get("subprotocols") or ()),
                }
            )
            self._accepted = True
            if self.slow_client_timeout is not None:
                self._watchdog = SendWatchdog(self.slow_client_timeout)
                self._send = self._watchdog.wrap(self._send)
            await self.on_connect()
            await self._serve()
        except Exception as exc:
            if _client_went_away(exc):
                logger.debug("%s: the client went away", type(self).__qualname__, exc_info=True)
                self._closed = True
                self._end_code = GOING_AWAY
                return
            logger.exception("%s failed; closing with 1011", type(self).__qualname__)
            self._end_code = INTERNAL_ERROR
            await self._try_close(INTERNAL_ERROR, "internal error")
        finally:
            try:
                with anyio.CancelScope(shield=True):
                    await self._cleanup(self._end_code)
            finally:
                self._release_slots(owner)

    def _drop_stalled_client(self) -> None:
        logger.warning("%s dropped a client that stopped reading", type(self).__qualname__)
        if not self._stopping:
            self._end_code = POLICY_VIOLATION
        self._closed = True  # a close frame would block like everything else
        self._halt(None)

    async def _cleanup(self, code: int) -> None:
        layer, name = self.channel_layer, self.channel_name
        if layer is not None and name is not None:
            for group in list(self._joined):
                try:
                    await layer.group_discard(group, name)
                except Exception:
                    logger.exception("could not leave group %r", group)
            self._joined.clear()
        if self._accepted:
            try:
                await self.on_disconnect(code)
            except Exception:
                logger.exception("%s.on_disconnect failed", type(self).__qualname__)

    # -- client frames -----------------------------------------------------------------

    async def _on_frame(self, data: str | bytes | None, binary: bool) -> None:
        if binary or data is None:
            detail = "binary frames are not accepted; send JSON text"
            await self._send_text(encode_error(ErrorCode.BINARY_FRAME, detail))
            return await self._complete(None)
        routes = self._ws_routes
        try:
            # The pre-check bounds the cost of a hostile frame; see chanx.core._hardening.
            checked = len(data) > PRECHECK_LENGTH
            if checked:
                self._precheck_frame(data)
            message = self._validate_frame(data)
            floats = not checked and type(message) in self._float_models
            if floats and may_be_non_finite(cast(str, data)):
                self._precheck_frame(data)
        except ValidationError as exc:
            code, detail, errors = describe_decode_error(exc, routes.by_key)
            ref = extract_ref(data) if code != ErrorCode.INVALID_JSON else None
            await self._send_text(encode_error(code, detail, errors=errors, ref=ref))
            return await self._complete(ref)
        except Exception:  # a validator raised something pydantic does not convert
            logger.exception("%s: validating a frame failed", type(self).__qualname__)
            detail = "the frame could not be validated; the error was logged"
            await self._send_text(encode_error(ErrorCode.HANDLER_ERROR, detail))
            return await self._complete(None)
        ref = message.ref
        handler = routes.by_key.get(message.action)
        if handler is None:  # a placeholder of a consumer with fewer than two handlers
            detail = unknown_action_detail(message.action, routes.by_key)
            await self._send_text(encode_error(ErrorCode.UNKNOWN_ACTION, detail, ref=ref))
            return await self._complete(ref)
        try:
            result = await handler.func(self, message)
        except Exception:
            logger.exception("handler %s failed", handler.qualname)
            detail = "the handler failed; the error was logged"
            await self._send_text(encode_error(ErrorCode.HANDLER_ERROR, detail, ref=ref))
        else:
            if result is None:
                pass
            elif isinstance(result, BaseMessage) and (ref is None or result.ref is not None):
                # the common reply: one message, nothing to add, so no generic path
                await self._send({"type": "websocket.send", "text": encode_message(result)})
            else:
                await self._send_result(result, ref)
        if self.send_completion:
            await self._complete(ref)

    async def _complete(self, ref: str | int | None) -> None:
        if self.send_completion:
            await self._send_text(CompleteMessage(ref=ref).model_dump_json())

    async def _send_result(self, result: Any, ref: str | int | None = None) -> None:
        items = (result,) if isinstance(result, BaseMessage) else result
        if not isinstance(items, (list, tuple)):
            raise TypeError(
                f"expected a BaseMessage (or a list of them) to send, but got {result!r}"
            )
        for item in items:
            if not isinstance(item, BaseMessage):
                raise TypeError(f"expected a BaseMessage to send, but got {item!r}")
            if ref is not None and item.ref is None:
                item = item.model_copy(update={"ref": ref})
            await self._send_text(encode_message(item))

    # -- sending -----------------------------------------------------------------------

    async def _send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def send_message(self, message: BaseMessage) -> None:
        """Send one message to this connection's client."""
        await self._send_text(encode_message(message))

    async def send_json(self, data: Any) -> None:
        """Send any JSON-serialisable value to this connection's client."""
        await self._send_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection; in-flight work of this connection is cancelled."""
        self._end_code = code
        await self._try_close(code, reason)
        self._halt(None)

    async def _try_close(self, code: int, reason: str | None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._send(
                {"type": "websocket.close", "code": code, "reason": clip_reason(reason)}
            )
        except Exception:  # the client may already be gone
            logger.debug("close after the client left", exc_info=True)


AsyncJsonWebsocketConsumer._compile_routes({})
