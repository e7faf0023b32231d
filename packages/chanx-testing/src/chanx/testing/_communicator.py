"""An in-memory WebSocket client that drives any ASGI app from an asyncio test."""

# A per-call ``timeout`` is the point of this API: every wait in a test must be bounded.
# ruff: noqa: ASYNC109
from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload
from urllib.parse import unquote, urlencode

from pydantic import BaseModel, TypeAdapter, ValidationError

from chanx.core.types import ASGIApp, Message

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
# Mapping keys are invariant, hence one Mapping per key type.
_Pairs = Iterable[tuple[str | bytes, str | bytes]]
HeadersInput = Mapping[str, str | bytes] | Mapping[bytes, str | bytes] | _Pairs


class CommunicatorTimeoutError(TimeoutError):
    """The app did not send the awaited event, or did not finish, within the timeout."""


class UnexpectedEventError(AssertionError):
    """The app sent something other than what the test awaited (``event`` holds it)."""

    def __init__(self, message: str, event: Message | None = None) -> None:
        super().__init__(message)
        self.event = event


class HandshakeRefusedError(AssertionError):
    """``async with WebsocketCommunicator(...)`` met a handshake the app did not accept.

    Attributes:
        result: The full handshake outcome (`ConnectResult`).
        close_code: Code of a close before accept (the server answers HTTP 403), else None.
        close_reason: Reason given with that close, else None.
        response_status: HTTP status the client saw (403 for a close before accept).
    """

    def __init__(self, path: str, result: ConnectResult) -> None:
        if result.close_code is not None:
            how = f"closed before accept with code {result.close_code}"
            if result.close_reason:
                how += f" and reason {result.close_reason!r}"
            how += " (a client sees HTTP 403)"
        else:
            how = f"denied with HTTP {result.response_status}"
            if result.response_body:
                how += f" and body {result.response_body[:200]!r}"
        super().__init__(
            f"the app refused the handshake for {path!r}: {how}. Call connect() instead of "
            "`async with` to inspect a refusal, or expect HandshakeRefusedError."
        )
        self.result = result
        self.close_code = result.close_code
        self.close_reason = result.close_reason
        self.response_status = result.response_status


@dataclass(frozen=True)
class ConnectResult:
    """Outcome of the handshake; truthy when accepted, unpacks as ``(accepted, detail)``.

    ``detail`` is the subprotocol when accepted, else the close code (close before accept)
    or the HTTP status (denial through the ``websocket.http.response`` extension).
    """

    accepted: bool
    subprotocol: str | None = None
    close_code: int | None = None
    close_reason: str | None = None
    response_status: int | None = None
    response_headers: tuple[tuple[bytes, bytes], ...] = ()
    response_body: bytes = b""

    def __bool__(self) -> bool:
        return self.accepted

    def __iter__(self) -> Iterator[bool | int | str | None]:
        yield self.accepted
        yield self.subprotocol if self.accepted else (self.close_code or self.response_status)


def _latin1(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _describe(event: Message) -> str:
    if event["type"] == "websocket.close":
        return f"a close with code {event['code']} and reason {event['reason']!r}"
    if event["type"] == "websocket.send":
        if event.get("text") is not None:
            return f"a text frame {event['text']!r}"
        return f"a binary frame {event.get('bytes')!r}"
    return f"the event {dict(event)!r}"


class WebsocketCommunicator:
    """Drive an ASGI WebSocket app in memory: no server, no thread, no network.

    The app runs as an asyncio task owned by the communicator. Use it as
    ``async with WebsocketCommunicator(app, "/ws") as ws:`` (connects on enter, raising
    `HandshakeRefusedError` if the app refuses; disconnects on exit) or call ``connect()``
    and ``disconnect()`` yourself. Every wait
    is bounded by ``timeout`` seconds (overridable per call); ``scope`` may be edited
    before ``connect()``.

    Args:
        app: Any ASGI application.
        path: Request path, optionally with ``?query``.
        headers: Request headers, as a mapping or (name, value) pairs of str or bytes.
        subprotocols: Subprotocols offered by the client.
        timeout: Default bound, in seconds, on every wait.
        query_string: Query string (str, bytes or a mapping); not together with ``?`` in path.
    """

    def __init__(
        self,
        app: ASGIApp,
        path: str,
        *,
        headers: HeadersInput | None = None,
        subprotocols: Iterable[str] | None = None,
        timeout: float = 1.0,
        query_string: str | bytes | Mapping[str, str] | None = None,
    ) -> None:
        path, sep, query_in_path = path.partition("?")
        if sep and query_string is not None:
            raise ValueError(f"query given twice: in the path {query_in_path!r} and query_string")
        if isinstance(query_string, Mapping):
            query_string = urlencode(query_string)
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        header_list = [(_latin1(name).lower(), _latin1(value)) for name, value in pairs]
        if not any(name == b"host" for name, _ in header_list):
            header_list.insert(0, (b"host", b"testserver"))
        self.app = app
        self.timeout = timeout
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("testserver", 80),
            "client": ("testclient", 50000),
            "root_path": "",
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": _latin1(query_string if query_string is not None else query_in_path),
            "headers": header_list,
            "subprotocols": list(subprotocols or ()),
            "extensions": {"websocket.http.response": {}},
        }
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: deque[Message] = deque()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._error_reported = False
        self._result: ConnectResult | None = None
        self._close: Message | None = None

    @property
    def accepted(self) -> bool:
        """Whether the app accepted the connection."""
        return self._result is not None and self._result.accepted

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the app selected on accept."""
        return self._result.subprotocol if self._result is not None else None

    @property
    def response_status(self) -> int | None:
        """HTTP status of a denied handshake (403 for a close before accept)."""
        return self._result.response_status if self._result is not None else None

    @property
    def close_code(self) -> int | None:
        """Code of the app's ``websocket.close`` once received."""
        return self._close["code"] if self._close is not None else None

    @property
    def close_reason(self) -> str | None:
        """Reason of the app's ``websocket.close`` once received."""
        return self._close["reason"] if self._close is not None else None

    async def __aenter__(self) -> WebsocketCommunicator:
        """Connect; a refused handshake raises `HandshakeRefusedError` (after clean-up)."""
        result = await self.connect()
        if not result.accepted:
            await self.disconnect()
            raise HandshakeRefusedError(self.scope["path"], result)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.disconnect()
        except Exception:
            if exc_info[1] is None:
                raise  # otherwise the test's own failure is the one worth showing

    async def _run_app(self) -> None:
        await self.app(self.scope, self._to_app.get, self._send)

    async def _send(self, event: Message) -> None:
        self._from_app.append(event)
        self._arrived.set()
        if event["type"] == "websocket.close" or (
            event["type"] == "websocket.http.response.body" and not event.get("more_body")
        ):
            # A server ends the socket once the app closes: the app then hears a disconnect.
            code = event.get("code") or 1000
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code})

    def _app_finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            task.exception()  # marks it retrieved; _raise_app_error re-raises it in the test
        self._arrived.set()

    def _raise_app_error(self) -> None:
        task = self._task
        if task is None or not task.done() or task.cancelled() or self._error_reported:
            return
        error = task.exception()
        if error is not None:
            self._error_reported = True
            raise error

    async def _wait(self, limit: float) -> bool:
        """Wait until the app sends an event or finishes; False if ``limit`` passes first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                while not self._from_app and not (self._task and self._task.done()):
                    self._arrived.clear()
                    await self._arrived.wait()
        return bool(self._from_app) or (self._task is not None and self._task.done())

    async def _next(self, what: str, timeout: float | None, awaited: str = "frame") -> Message:
        if self._task is None:
            raise RuntimeError(f"call connect() before {what}")
        limit = self.timeout if timeout is None else timeout
        if not await self._wait(limit):
            raise CommunicatorTimeoutError(
                f"no {awaited} from the app within {limit} s (waiting for {what})"
            )
        if not self._from_app:
            self._raise_app_error()
            raise UnexpectedEventError(f"the app finished without a {awaited} (waiting for {what})")
        event = self._from_app.popleft()
        if event["type"] == "websocket.close":
            code, reason = event.get("code") or 1000, event.get("reason") or ""
            event = self._close = {"type": "websocket.close", "code": code, "reason": reason}
        return event

    async def connect(self, timeout: float | None = None) -> ConnectResult:
        """Start the app, send ``websocket.connect`` and wait for its answer.

        Unlike ``async with``, a refused handshake does not raise: check the result.

        Returns:
            The handshake outcome. An app that accepts then closes at once (rejected
            authentication) gives ``accepted=True``; ``assert_closed`` shows the close.
        """
        if self._task is not None:
            raise RuntimeError("connect() was already called on this communicator")
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.create_task(self._run_app(), name=f"ASGI app for {self.scope['path']}")
        self._task.add_done_callback(self._app_finished)
        event = await self._next("connect", timeout, "answer to websocket.connect")
        if event["type"] == "websocket.accept":
            self._result = ConnectResult(True, subprotocol=event.get("subprotocol"))
        elif event["type"] == "websocket.close":  # ASGI: a close before accept is an HTTP 403
            self._result = ConnectResult(
                False, close_code=event["code"], close_reason=event["reason"], response_status=403
            )
        elif event["type"] == "websocket.http.response.start":
            body, part = b"", event
            while part is event or part.get("more_body"):
                part = await self._next("connect (HTTP response body)", timeout)
                if part["type"] != "websocket.http.response.body":
                    raise UnexpectedEventError(f"expected a response body, got {part!r}", part)
                body += part.get("body", b"")
            headers = tuple((bytes(k), bytes(v)) for k, v in event.get("headers", ()))
            self._result = ConnectResult(
                False, response_status=event["status"], response_headers=headers, response_body=body
            )
        else:
            expected = "websocket.accept, websocket.close or websocket.http.response.start"
            raise UnexpectedEventError(f"expected {expected}, but got {_describe(event)}", event)
        return self._result

    async def send_text(self, text: str) -> None:
        """Send a text frame to the app."""
        await self.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame to the app."""
        await self.send_input({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` encoded with ``json.dumps`` as a text frame."""
        await self.send_text(json.dumps(data))

    async def send_message(self, message: BaseModel) -> None:
        """Send a pydantic model (by alias) as a text frame."""
        await self.send_text(message.model_dump_json(by_alias=True))

    async def send_input(self, event: Message) -> None:
        """Send a raw ASGI event to the app."""
        self._raise_app_error()
        self._to_app.put_nowait(event)

    async def receive_output(self, timeout: float | None = None) -> Message:
        """Return the next raw ASGI event the app sent."""
        return await self._next("receive_output", timeout)

    async def _receive_frame(self, what: str, key: str, timeout: float | None) -> Any:
        event = await self._next(what, timeout)
        if event["type"] == "websocket.send" and event.get(key) is not None:
            return event[key]
        kind = "text" if key == "text" else "binary"
        raise UnexpectedEventError(
            f"expected a {kind} frame ({what}), but got {_describe(event)}", event
        )

    async def receive_text(self, timeout: float | None = None) -> str:
        """Return the next frame, which must be text."""
        return cast(str, await self._receive_frame("receive_text", "text", timeout))

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        """Return the next frame, which must be binary."""
        return cast(bytes, await self._receive_frame("receive_bytes", "bytes", timeout))

    async def _receive_json(self, what: str, timeout: float | None) -> Any:
        text = await self._receive_frame(what, "text", timeout)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UnexpectedEventError(f"expected a JSON text frame, but got {text!r}") from exc

    async def receive_json(self, timeout: float | None = None) -> Any:
        """Return the next frame decoded as JSON; it must be a text frame."""
        return await self._receive_json("receive_json", timeout)

    @overload
    async def receive_message(self, model: None = None, *, timeout: float | None = None) -> Any: ...
    @overload
    async def receive_message(
        self, model: type[ModelT], *, timeout: float | None = None
    ) -> ModelT: ...
    @overload
    async def receive_message(
        self, model: TypeAdapter[T], *, timeout: float | None = None
    ) -> T: ...

    async def receive_message(self, model: Any = None, *, timeout: float | None = None) -> Any:
        """Return the next frame validated as ``model`` (a model class or a TypeAdapter).

        Without a model, the decoded JSON is returned.
        """
        if model is None:
            return await self.receive_json(timeout)
        text = await self._receive_frame("receive_message", "text", timeout)
        try:
            if isinstance(model, TypeAdapter):
                return model.validate_json(text)
            return model.model_validate_json(text)
        except ValidationError as exc:
            name = getattr(model, "__name__", repr(model))
            raise UnexpectedEventError(f"expected a {name}, but got {text!r}:\n{exc}") from exc

    async def receive_all_messages(
        self, stop_action: str = "complete", *, timeout: float | None = None
    ) -> list[Any]:
        """Collect JSON frames until one whose ``action`` is ``stop_action`` (not included).

        ``timeout`` (default: the communicator's) bounds the whole collection, not each
        frame: an app that streams frames and never sends ``stop_action`` fails the test.
        """
        frames: list[Any] = []
        limit = self.timeout if timeout is None else timeout
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            what = (
                f"receive_all_messages: {len(frames)} frames so far, no {stop_action!r} yet "
                f"({limit} s for all of them)"
            )
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            frame = await self._receive_json(what, left)
            if isinstance(frame, dict) and frame.get("action") == stop_action:
                return frames
            frames.append(frame)

    async def receive_nothing(self, timeout: float = 0.1) -> bool:
        """Return True if the app sends nothing within ``timeout``; the event stays queued."""
        for _ in range(10):  # let work the test just triggered run before judging silence
            await asyncio.sleep(0)
        await self._wait(timeout)
        if not self._from_app:
            self._raise_app_error()
        return not self._from_app

    async def assert_closed(
        self, code: int | None = None, *, reason: str | None = None, timeout: float | None = None
    ) -> Message:
        """Wait for the app's ``websocket.close`` and check its code (and reason).

        Returns:
            The close event, with ``code`` and ``reason`` filled in.
        """
        if self._close is not None and not self._from_app:
            event = self._close
        else:
            event = await self._next("assert_closed", timeout, "close")
        if event["type"] != "websocket.close":
            raise UnexpectedEventError(f"expected a close, but got {_describe(event)}", event)
        if code is not None and event["code"] != code:
            raise AssertionError(f"expected close code {code}, but got {_describe(event)}")
        if reason is not None and event["reason"] != reason:
            raise AssertionError(f"expected close reason {reason!r}, but got {_describe(event)}")
        return event

    async def disconnect(self, code: int = 1000, timeout: float | None = None) -> None:
        """Send ``websocket.disconnect`` and wait for the app to finish (cancelled if late)."""
        if self._task is None:
            return
        limit = self.timeout if timeout is None else timeout
        if not self._task.done():
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code})
            await asyncio.wait({self._task}, timeout=limit)
        if not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=limit)
            message = f"the app did not finish within {limit} s after websocket.disconnect"
            raise CommunicatorTimeoutError(f"{message} (waiting for disconnect); it was cancelled")
        self._raise_app_error()
