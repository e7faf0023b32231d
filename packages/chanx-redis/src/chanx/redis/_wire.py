"""The layer's own Redis connection for its hot path: an asyncio Protocol parsed by hiredis.

Through redis-py a command costs about 90 µs of CPU on a small machine (a pool checkout, a
timeout per read, observability hooks, a task wake-up per reply), and a cross-process round
trip has several commands on its critical path, so that cost set the layer's ceiling. A
`Wire` is a connection the layer opens and owns (TCP, TLS or a Unix socket; AUTH/ACL, SELECT
and RESP2 or RESP3 done here, see `open_wire`): it writes each command at once and resolves
the replies in order from the protocol callback, so any number of callers share one
connection and a reply wakes its caller directly. hiredis's incremental reader parses every
byte once, however the replies are split. A subscribed `Wire` hands pub/sub messages to
``on_push`` as they arrive.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["Wire"]

# hiredis returns this when the buffer ends inside a reply (False is a RESP3 boolean).
_INCOMPLETE = object()

# RESP3 answers these commands with a push instead of a reply.
_CONFIRMATIONS = frozenset({b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe"})


def _pack(args: tuple[Any, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        kind = type(arg)  # exact types first: this runs for every command
        if kind is str:
            data = arg.encode()
        elif kind is bytes:
            data = arg
        elif kind is int:
            data = b"%d" % arg
        elif isinstance(arg, bytes | bytearray | memoryview):
            data = bytes(arg)
        elif isinstance(arg, str):
            data = str(arg).encode()
        elif isinstance(arg, int | float) and not isinstance(arg, bool):
            data = repr(arg).encode()
        else:
            raise TypeError(f"expected bytes, str, int or float, but got {arg!r}")
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class Wire(asyncio.Protocol):
    """One Redis connection: commands are pipelined, replies resolve futures in order."""

    def __init__(self, timeout: float | None = None) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = hiredis.Reader(replyError=ResponseError, notEnoughData=_INCOMPLETE)
        self._waiting: deque[asyncio.Future[Any]] = deque()
        # One timer per wire rather than one per command (asyncio.timeout costs ~5 µs): a
        # reply later than ``timeout`` fails every waiting command and drops the connection.
        self._timeout = timeout
        self._sent_at: deque[float] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        # Subscribed: pub/sub messages go here, not to a waiting command.
        self.on_push: Callable[[bytes], None] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(None)
        self._fail(
            exc
            if isinstance(exc, RedisTimeoutError | RedisConnectionError)
            else RedisConnectionError(
                f"Redis connection lost: {exc!r}" if exc else "Redis closed the connection"
            )
        )

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail(self, error: Exception) -> None:
        self._stop_timer()
        self._sent_at.clear()
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def _check_deadline(self) -> None:
        self._timer = None
        if not self._sent_at or self._timeout is None:
            return
        late = asyncio.get_running_loop().time() - self._sent_at[0] - self._timeout
        if late < 0:
            self._timer = asyncio.get_running_loop().call_later(-late, self._check_deadline)
            return
        # A server this slow is gone or stuck: fail what waits, reconnect on the next command.
        self.close()
        self._fail(RedisTimeoutError(f"Redis did not answer within {self._timeout} s"))

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        parser.feed(data)
        on_push = self.on_push
        while True:
            try:
                value = parser.gets()
            except hiredis.ProtocolError as error:
                self._abandon(f"Redis sent something that is not RESP: {error}")
                return
            if value is _INCOMPLETE:
                return
            if type(value) is hiredis.PushNotification:
                head = value[0] if value else None
                if head == b"message":
                    if on_push is not None:
                        on_push(value[2])
                    continue
                if head not in _CONFIRMATIONS:
                    continue  # a notification nobody here asked for (tracking, maintenance)
            elif on_push is not None and type(value) is list and value and value[0] == b"message":
                on_push(value[2])  # RESP2: a subscribed connection gets messages as arrays
                continue
            self._resolve(value)

    def _resolve(self, value: Any) -> None:
        if not self._waiting:
            self._abandon("Redis sent a reply that no command asked for")
            return
        future = self._waiting.popleft()
        if self._sent_at:
            self._sent_at.popleft()
        if future.done():  # its caller was cancelled; the reply has nobody to go to
            return
        if isinstance(value, ResponseError):
            text = str(value)
            future.set_exception(NoScriptError(text) if text.startswith("NOSCRIPT") else value)
        else:
            future.set_result(value)

    def _abandon(self, reason: str) -> None:
        # The stream cannot be trusted past this point: every waiting command fails.
        self.close()
        self.connection_lost(RedisConnectionError(reason))

    def command(self, *args: Any) -> asyncio.Future[Any]:
        """Send one command now; the returned future resolves with its reply."""
        if self.closed or self._transport is None:
            raise RedisConnectionError("Redis connection is closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append(future)
        if self._timeout is not None:
            self._sent_at.append(loop.time())
            if self._timer is None:
                self._timer = loop.call_later(self._timeout, self._check_deadline)
        self._transport.write(_pack(args))
        return future

    def close(self) -> None:
        self.closed = True
        self._stop_timer()
        if self._transport is not None:
            self._transport.close()
