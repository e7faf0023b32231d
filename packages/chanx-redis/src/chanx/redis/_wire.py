"""A lean, pipelined RESP connection for the Redis layer's hot path.

Through redis-py a command costs about 90 µs of CPU on a small machine (a pool checkout, a
timeout per read, observability hooks, a task wake-up per reply), and a round trip between
two processes has several commands on its critical path, so that cost set the layer's
ceiling. `Wire` takes over a socket that redis-py has connected (TLS, AUTH, SELECT and the
RESP2/RESP3 handshake stay redis-py's), writes each command at once and resolves the
replies, in order, from the protocol callback: any number of callers share one connection
and a reply wakes its caller directly. A subscribed `Wire` hands pub/sub messages to
``on_push`` as they arrive.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["Wire", "open_wire"]


class _IncompleteError(Exception):
    """The buffer ends inside a reply; ``need`` is the buffer size that may complete it."""

    def __init__(self, need: int) -> None:
        self.need = need


# RESP3 delivers these replies to (un)subscribe commands as pushes.
_CONFIRMATIONS = {b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"pong"}


def _error(text: str) -> ResponseError:
    if text.startswith("NOSCRIPT"):
        return NoScriptError(text)
    return ResponseError(text)


class _Push(list[Any]):
    """A RESP3 out-of-band message (a pub/sub message, a subscription, a notification)."""


# A pub/sub message, RESP2 and RESP3: [b"message", channel, data].
_MESSAGE_HEADS = (b"*3\r\n$7\r\nmessage\r\n", b">3\r\n$7\r\nmessage\r\n")

_AGGREGATES: dict[int, type[list[Any]]] = {42: list, 126: list, 62: _Push}  # * ~ >


def _parse(buffer: bytes, position: int) -> tuple[Any, int]:
    """Parse one RESP2/RESP3 reply at ``position``; return it and the position after it."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        raise _IncompleteError(len(buffer) + 1)
    kind = buffer[position]
    if kind in (36, 61, 33):  # $ bulk string, = verbatim string, ! bulk error
        length = int(buffer[position + 1 : end])
        if length < 0:
            return None, end + 2
        start = end + 2
        stop = start + length
        if stop + 2 > len(buffer):
            raise _IncompleteError(stop + 2)
        if kind == 33:
            return _error(buffer[start:stop].decode(errors="replace")), stop + 2
        return buffer[start + 4 if kind == 61 else start : stop], stop + 2
    aggregate = _AGGREGATES.get(kind)
    if aggregate is not None or kind in (37, 124):  # % map, | attributes: flat pairs
        count = int(buffer[position + 1 : end])
        position = end + 2
        if count < 0:
            return None, position
        items = aggregate() if aggregate is not None else []
        for _ in range(count if aggregate is not None else 2 * count):
            item, position = _parse(buffer, position)
            items.append(item)
        if kind == 124:  # attributes describe the reply that follows; nothing here uses them
            return _parse(buffer, position)
        if kind == 37:
            return dict(zip(items[::2], items[1::2], strict=True)), position
        return items, position
    if kind in (58, 40):  # : integer, ( big number
        return int(buffer[position + 1 : end]), end + 2
    if kind == 43:  # + simple string
        return buffer[position + 1 : end], end + 2
    if kind == 45:  # - error
        return _error(buffer[position + 1 : end].decode(errors="replace")), end + 2
    if kind == 95:  # _ null
        return None, end + 2
    if kind == 44:  # , double
        return float(buffer[position + 1 : end]), end + 2
    if kind == 35:  # # boolean
        return buffer[position + 1 : end] == b"t", end + 2
    raise ValueError(f"expected a RESP reply, but got {buffer[position : end + 2]!r}")


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
        self._chunks: list[bytes] = []
        self._size = 0
        self._need = 0
        self._waiting: deque[asyncio.Future[Any]] = deque()
        # One timer per wire rather than one per command (asyncio.timeout costs ~5 µs): a
        # reply later than ``timeout`` fails every waiting command and drops the connection.
        self._timeout = timeout
        self._sent_at: deque[float] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        # The stream writer that opened the socket closes it when collected: keep it alive.
        self.keep: object = None
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
            if isinstance(exc, RedisTimeoutError)
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
        self._chunks.append(data)
        self._size += len(data)
        if self._size < self._need:
            return  # a large reply is still arriving: parse it once, when it may be whole
        buffer = data if len(self._chunks) == 1 else b"".join(self._chunks)
        position = 0
        waiting, sent_at = self._waiting, self._sent_at
        try:
            while position < len(buffer):
                if self.on_push is not None and buffer.startswith(_MESSAGE_HEADS, position):
                    # The inbox reader's hot path: skip building the generic reply.
                    _, after = _parse(buffer, position + len(_MESSAGE_HEADS[0]))  # channel
                    data, after = _parse(buffer, after)
                    position = after
                    self.on_push(data)
                    continue
                value, after = _parse(buffer, position)
                position = after
                if (
                    type(value) is _Push
                    and value
                    and value[0] not in _CONFIRMATIONS
                    and value[0] != b"message"  # (without on_push it answers a command)
                ):
                    continue  # a notification nobody here asked for (tracking, maintenance)
                if not waiting:
                    raise ValueError("a reply came that no command asked for")
                future = waiting.popleft()
                if sent_at:
                    sent_at.popleft()
                if future.done():  # its caller was cancelled; the reply has nobody to go to
                    continue
                if isinstance(value, ResponseError):
                    future.set_exception(value)
                else:
                    future.set_result(value)
            self._need = 0
        except _IncompleteError as incomplete:
            self._need = incomplete.need - position
        except ValueError as error:
            self.close()
            self.connection_lost(error)
            return
        rest = buffer[position:] if position else buffer
        self._chunks = [rest] if rest else []
        self._size = len(rest)

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


async def open_wire(client: Any, command_timeout: float | None = None) -> Wire:
    """Connect like ``client``'s pool would, then hand the socket to a `Wire`.

    With ``command_timeout``, a command whose reply takes longer fails with redis-py's
    `TimeoutError` and the connection is dropped.
    """
    pool = client.connection_pool
    connection = pool.connection_class(**pool.connection_kwargs)
    await connection.connect()
    reader, writer = connection._reader, connection._writer
    if reader is None or writer is None or reader._buffer:
        await connection.disconnect()
        raise RedisConnectionError("could not take over the Redis connection")
    # The socket is the wire's from here on: redis-py must neither read it nor wait for it
    # to close (its stream protocol would never hear of the close once the wire has it).
    connection._reader = connection._writer = None
    wire = Wire(command_timeout)
    wire.keep = writer
    try:
        writer.transport.set_protocol(wire)
        wire.connection_made(writer.transport)
    except BaseException:
        writer.transport.abort()
        raise
    return wire
