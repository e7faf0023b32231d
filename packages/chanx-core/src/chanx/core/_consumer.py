"""`AsyncJsonWebsocketConsumer`: the framework-neutral consumer, an ASGI app per route.

One connection flows one way (`serve`): connect → origin, capacity, authentication → join
groups → accept → hooks, then its `Connection` serves client frames and layer events
until the end, which cancels in-flight work, leaves the groups and runs the disconnect
hook. The consumer turns frames into messages and handler results into frames; the
connection moves them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import reprlib
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

from pydantic import ValidationError

from chanx.core._adapters import FrameworkAdapter, adapter_for_scope
from chanx.core._admission import AdmissionPolicy, admit, join_or_refuse, release_slots
from chanx.core._app import ConsumerApp
from chanx.core._auth import AuthResult
from chanx.core._connection import Connection
from chanx.core._errors import (
    ErrorCode,
    describe_decode_error,
    encode_error,
    extract_ref,
    unknown_action_detail,
)
from chanx.core._frames import shared_gate
from chanx.core._groups import SEND_TEXT_EVENT, layer_for, numbered
from chanx.core._hardening import PRECHECK_LENGTH, Precheck, may_be_non_finite
from chanx.core._limits import FrameGate, Refusal
from chanx.core._messages import BaseMessage, CompleteMessage, encode_message
from chanx.core._repeats import RepeatedWarning
from chanx.core._routing import ConsumerRoutes, build_consumer_routes, defining_namespace
from chanx.core._sends import LayerSends
from chanx.core.types import Receive, Scope, Send

__all__ = ["AsyncJsonWebsocketConsumer"]

logger = logging.getLogger("chanx.consumer")

_LEAVE_FAILURES = RepeatedWarning(logger)

INTERNAL_ERROR = 1011
GOING_AWAY = 1006  # the abnormal-closure code servers report for a vanished client


async def _uncancellable(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to the end even if this task is cancelled meanwhile, then re-raise."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


class AsyncJsonWebsocketConsumer(AdmissionPolicy, LayerSends):
    """A typed WebSocket endpoint: decorate methods, mount ``as_asgi()`` on a route.

    Class options:
        channel_layer_alias, groups, framework: the layer options (`LayerSends`).
        authenticator_class, allowed_origins, max_connections, max_connections_per_key,
        reject_in_handshake, send_auth_error: who may connect (`AdmissionPolicy`).
        subprotocols: Subprotocols this endpoint speaks; the first one the client offers wins.
        send_completion: Send ``{"action": "complete"}`` after every handled frame.
        send_seq: Number the pushes (frames a layer event caused: broadcasts and
            ``@event_handler`` results) ``"seq": 1, 2, ...`` per connection; a gap means
            pushes were dropped for this connection (``max_outbound_events``).
        max_concurrent_frames: Frames handled at once; 1 keeps strict order.
        max_pending_frames: Frames read ahead while a handler runs; when full, reading
            pauses, so the server's flow control slows the client down.
        emits: Messages the server pushes on its own, for documentation.
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
    send_seq: ClassVar[bool] = False
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
    max_outbound_events: ClassVar[int | None] = None

    _chanx_routes: ClassVar[ConsumerRoutes]
    _validate_frame: ClassVar[staticmethod[[str | bytes], Any]]
    _validate_event: ClassVar[staticmethod[[Any], Any]]
    _precheck_frame: ClassVar[staticmethod[[str | bytes], Any]]
    _float_models: ClassVar[frozenset[type[Any]]]

    scope: Scope
    user: Any
    auth_result: AuthResult | None
    path_params: dict[str, Any]
    #: Pushes sent with a ``seq`` on this connection (``send_seq``).
    pushes_sent: int = 0
    _connection: Connection

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._compile_routes(defining_namespace())

    @classmethod
    def _compile_routes(cls, namespace: dict[str, Any]) -> None:
        routes = cls._chanx_routes = build_consumer_routes(cls, namespace)
        cls._validate_frame = staticmethod(routes.ws.validate_json)
        cls._validate_event = staticmethod(routes.event.validate_python)
        precheck = Precheck(routes.ws.decoder, routes.ws.models)
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
        self._joined = {}

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

    async def get_groups(self) -> Sequence[str]:
        """Groups to join before accept; defaults to the ``groups`` class attribute."""
        return list(self.groups)

    async def on_accept(self) -> None:
        """Called right after the handshake is accepted, before `on_connect`.

        For framework adapters (chanx-django sends its authentication frame here);
        applications use `on_connect`. Overrides call ``super().on_accept()``.
        """

    async def on_connect(self) -> None:
        """Called once accepted, before any frame is handled."""

    async def on_disconnect(self, code: int) -> None:
        """Called after the connection ended and the groups were left."""

    # -- the connection, from connect to cleanup ---------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection (`as_asgi` apps call `serve` directly)."""
        adapter = type(self).framework
        await self.serve(scope, receive, send, adapter or adapter_for_scope(scope))

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, adapter: FrameworkAdapter | None
    ) -> None:
        """Serve one connection that ``adapter``'s framework routed (None: no framework).

        The adapter supplies the path parameters and resolves the layer alias; an app
        from `as_asgi` decides it once, on its first connection.
        """
        if scope["type"] != "websocket":
            raise RuntimeError(f"expected a websocket scope, but got {scope['type']!r}")
        self.scope = scope
        if adapter is not None:
            self.path_params = dict(adapter.path_params(scope))
        self.user = scope.get("user")
        connection = self._connection = Connection(receive, send, type(self).__qualname__)
        if not await connection.receive_connect():
            return
        owner = type(self)
        if not await admit(self, connection, owner):
            return
        # The connection is served in this frame rather than in a helper coroutine: each
        # frame on an idle connection's stack stays allocated as long as it is open.
        try:
            alias = self.channel_layer_alias  # as_asgi(channel_layer_alias=...) may set it
            if alias is not None:
                layer = self.channel_layer = layer_for(adapter, alias)
                groups = list(await self.get_groups())  # a failing get_groups is a bug: 1011
                self.channel_name, admitted = await join_or_refuse(
                    self, connection, layer, groups, self._joined
                )
                if not admitted:
                    return
            await connection.accept(
                self.select_subprotocol(scope.get("subprotocols") or ()), self.slow_client_timeout
            )
            await self.on_accept()
            await self.on_connect()
            await connection.serve(self, self._frame_gate(), self.channel_layer, self.channel_name)
        except Exception:
            # Servers raise from send() once the client has gone (uvicorn an OSError,
            # daphne autobahn's Disconnected): what ends the connection after that is its
            # consequence. An error of the app's own (a layer's ConnectionError) is not.
            if connection.client_left:
                logger.debug("%s: the client went away", type(self).__qualname__, exc_info=True)
                connection.closed = True
                connection.end_code = GOING_AWAY
                return
            logger.exception("%s failed; closing with 1011", type(self).__qualname__)
            connection.end_code = INTERNAL_ERROR
            await connection.send_close(INTERNAL_ERROR, "internal error")
        finally:
            try:
                await _uncancellable(self._cleanup(connection))
            finally:
                release_slots(self, owner)

    def _frame_gate(self) -> FrameGate | None:
        close_oversized = self.oversized_frames == "close"
        limit, after = self.rate_limit, self.rate_limit_close_after
        return shared_gate(self.max_frame_bytes, close_oversized, limit, after)

    async def _cleanup(self, connection: Connection) -> None:
        layer, name = self.channel_layer, self.channel_name
        if layer is not None and name is not None:
            for group in list(self._joined):
                try:
                    await layer.group_discard(group, name)
                except Exception as exc:
                    # The layer's failure (Redis down), not this socket's: one line per burst.
                    _LEAVE_FAILURES.warn(
                        "could not leave group %r: %r; the layer drops the membership after "
                        "its group_expiry",
                        group,
                        exc,
                    )
            self._joined.clear()
        if connection.accepted:
            try:
                await self.on_disconnect(connection.end_code)
            except Exception:
                logger.exception("%s.on_disconnect failed", type(self).__qualname__)

    # -- frames in (what the connection hands over) ------------------------------------

    async def _on_frame(self, data: str | bytes | None, binary: bool) -> None:
        if binary or data is None:
            detail = "binary frames are not accepted; send JSON text"
            await self._connection.send_text(encode_error(ErrorCode.BINARY_FRAME, detail))
            return await self._complete(None)
        routes = self._chanx_routes.ws
        try:
            # The pre-check bounds the cost of a hostile frame; see chanx.core._hardening.
            if len(data) > PRECHECK_LENGTH:
                self._precheck_frame(data)
                message = self._validate_frame(data)
            else:
                message = self._validate_frame(data)
                floats = self._float_models  # most consumers have none: one lookup
                if floats and type(message) in floats and may_be_non_finite(cast(str, data)):
                    self._precheck_frame(data)
        except ValidationError as exc:
            code, detail, errors = describe_decode_error(exc, routes.by_key, raw=data)
            ref = extract_ref(data) if code != ErrorCode.INVALID_JSON else None
            await self._connection.send_text(encode_error(code, detail, errors=errors, ref=ref))
            return await self._complete(ref)
        except Exception:  # a validator raised something pydantic does not convert
            logger.exception("%s: validating a frame failed", type(self).__qualname__)
            detail, ref = "the frame could not be validated (logged)", extract_ref(data)
            await self._connection.send_text(encode_error(ErrorCode.HANDLER_ERROR, detail, ref=ref))
            return await self._complete(ref)
        ref = message.ref
        try:
            handler = routes.by_key[message.action]
        except KeyError:  # a placeholder of a consumer with fewer than two handlers
            detail = unknown_action_detail(message.action, routes.by_key)
            error = encode_error(ErrorCode.UNKNOWN_ACTION, detail, ref=ref)
            await self._connection.send_text(error)
            return await self._complete(ref)
        try:
            result = await handler.func(self, message)
        except Exception:
            if self._connection.client_left:
                raise  # it sent to a client that has gone: the connection ends quietly
            logger.exception("handler %s failed", handler.qualname)
            detail = "the handler failed; the error was logged"
            await self._connection.send_text(encode_error(ErrorCode.HANDLER_ERROR, detail, ref=ref))
        else:
            if result is None:
                pass
            elif isinstance(result, BaseMessage) and (ref is None or result.ref is not None):
                # The common reply, one message with nothing to add: straight to the
                # socket's send, counted for the watchdog as `Connection.send_counted`
                # does, without the generic path below or a coroutine per send (a
                # measured share of the per-frame cost; docs/performance.md).
                text = encode_message(result)
                connection = self._connection
                connection.sends_begun += 1
                try:
                    await connection.send({"type": "websocket.send", "text": text})
                except Exception:  # the server's way of saying the client is gone
                    connection.client_left = True
                    raise
                finally:
                    connection.sends_done += 1
            else:
                await self._send_result(result, ref)
        if self.send_completion:
            await self._complete(ref)

    async def _on_refused(self, refusal: Refusal) -> None:
        await self._connection.send_text(encode_error(refusal.error_code, refusal.detail))
        await self._complete(None)

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == SEND_TEXT_EVENT:  # a broadcast frame, encoded once for every member
            text = event.get("text")
            # Any producer on the layer can send this type: only a JSON object's text is
            # a frame (and can carry "seq"); anything else is dropped like an invalid event.
            if text.__class__ is not str or text[:1] != "{":
                logger.warning(
                    "%s dropped an invalid %r event: 'text' must be the text of a JSON "
                    "object, got %s",
                    type(self).__qualname__,
                    kind,
                    reprlib.repr(text),
                )
                return
            if event.get("exclude") != self.channel_name:
                await self._connection.send_text(self._numbered(text))
            return
        handler = self._chanx_routes.event.by_key.get(kind) if isinstance(kind, str) else None
        if handler is None:
            logger.warning("%s dropped an event of unknown type %r", type(self).__qualname__, kind)
            return
        try:
            model = self._validate_event(event)
        except ValidationError as exc:
            logger.warning("%s dropped an invalid %r event: %s", type(self).__qualname__, kind, exc)
            return
        try:
            result = await handler.func(self, model)
            if result is not None:
                await self._send_result(result, push=True)
        except Exception:
            if self._connection.client_left:
                raise  # the push met a client that has gone: the connection ends quietly
            logger.exception("event handler %s failed", handler.qualname)

    # -- sending -----------------------------------------------------------------------

    def _numbered(self, text: str) -> str:
        """A push (a frame a layer event caused), numbered when ``send_seq`` is on."""
        if self.send_seq:
            self.pushes_sent += 1
            # dropped pushes count too, so the client sees the gap
            text = numbered(text, self.pushes_sent + self._connection.dropped_events)
        return text

    async def _complete(self, ref: str | int | None) -> None:
        if self.send_completion:
            await self._connection.send_text(CompleteMessage(ref=ref).model_dump_json())

    async def _send_result(
        self, result: Any, ref: str | int | None = None, *, push: bool = False
    ) -> None:
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
            text = encode_message(item)
            await self._connection.send_text(self._numbered(text) if push else text)

    async def send_message(self, message: BaseMessage) -> None:
        """Send one message to this connection's client."""
        await self._connection.send_text(encode_message(message))

    async def send_json(self, data: Any) -> None:
        """Send any JSON-serialisable value to this connection's client."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._connection.send_text(text)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection; in-flight work of this connection is cancelled."""
        await self._connection.close(code, reason)

    @property
    def dropped_events(self) -> int:
        """Layer pushes dropped by the ``max_outbound_events`` policy on this connection."""
        connection = getattr(self, "_connection", None)
        return connection.dropped_events if connection is not None else 0


AsyncJsonWebsocketConsumer._compile_routes({})
