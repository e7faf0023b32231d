"""One broker connection per event loop: connect, declare, publish, and come back after a loss.

The link owns the AMQP connection and its three channels (publishing with confirms, the
process queue's consumer, plain channels' consumers). A supervisor task reconnects with
backoff whenever the connection closes and asks its owner to declare everything again, so a
lost connection never needs a restart. Publishing waits for a connection at most
``connect_timeout`` seconds, then raises `ConnectionError`; a publish cut off by a lost
connection raises `ConnectionError` too, because the broker may or may not have it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiormq
from aiormq.abc import AbstractChannel, AbstractConnection
from pamqp.commands import Basic

__all__ = ["Link", "LinkSettings", "Published"]

logger = logging.getLogger("chanx.rabbitmq")


class Published:
    """What the broker said about one publish."""

    ACCEPTED = "accepted"
    REFUSED = "refused"  # a queue at its length limit rejected it (x-overflow: reject-publish)
    UNROUTABLE = "unroutable"  # mandatory, and no queue was bound for its routing key


@dataclass(frozen=True)
class LinkSettings:
    url: str
    connect_timeout: float
    prefetch: int
    expiration: str  # per-message TTL in milliseconds, as AMQP wants it
    connection_name: str


class Link:
    """The connection of one event loop; ``on_connect`` declares the owner's topology."""

    def __init__(
        self,
        settings: LinkSettings,
        *,
        on_connect: Callable[[Link, bool], Awaitable[None]],
        on_lost: Callable[[BaseException | None], None],
    ) -> None:
        self.settings = settings
        self.on_connect = on_connect
        self.on_lost = on_lost
        self.connection: AbstractConnection | None = None
        self.publisher: AbstractChannel | None = None
        self.consumer: AbstractChannel | None = None
        self.plain: AbstractChannel | None = None
        self.ready = asyncio.Event()
        self.closed = False
        self.last_error: BaseException | None = None
        self._ids = itertools.count()
        self._id_prefix = settings.connection_name.rsplit(" ", 1)[-1] + "."
        self._ack_tag = 0
        self._ack_channel: AbstractChannel | None = None
        self._ack_scheduled = False
        self._guards: set[asyncio.Timeout] = set()
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    @property
    def safe_url(self) -> str:
        parts = urlsplit(self.settings.url)
        host = parts.hostname or "localhost"
        return f"{parts.scheme}://{host}:{parts.port or ''}{parts.path}"

    async def _supervise(self) -> None:
        delay = 0.05
        reconnecting = False
        while not self.closed:
            try:
                await self._open(reconnecting)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = error
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            connection = self.connection
            assert connection is not None
            self.ready.set()
            await asyncio.wait([connection.closing])
            self.ready.clear()
            now = asyncio.get_running_loop().time()
            for guard in self._guards:
                guard.reschedule(now)
            cause = _closing_error(connection)
            await _close_quietly(connection)  # aiormq may leave the dead socket open
            if self.is_closed():
                return
            self.last_error = cause
            reconnecting = True
            self.on_lost(cause)

    async def _open(self, reconnecting: bool) -> None:
        connection = aiormq.Connection(self.settings.url)
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                await connection.connect({"connection_name": self.settings.connection_name})
            self.publisher = await connection.channel(
                publisher_confirms=True, on_return_raises=False
            )
            self.consumer = await connection.channel(publisher_confirms=False)
            await self.consumer.basic_qos(prefetch_count=self.settings.prefetch)
            self.plain = await connection.channel(publisher_confirms=False)
            # One unacknowledged message per plain channel: the rest wait in the broker, where
            # the queue's length limit applies to them.
            await self.plain.basic_qos(prefetch_count=1)
            self.connection = connection
            await self.on_connect(self, reconnecting)
        except BaseException:
            await _close_quietly(connection)
            raise

    def is_closed(self) -> bool:
        return self.closed

    async def wait_ready(self) -> AbstractChannel:
        """Return the publishing channel, waiting up to ``connect_timeout`` for a connection."""
        if not self.ready.is_set():
            if self.closed:
                raise ConnectionError("the RabbitMQ channel layer is closed on this event loop")
            try:
                async with asyncio.timeout(self.settings.connect_timeout):
                    await self.ready.wait()
            except TimeoutError:
                raise ConnectionError(
                    f"RabbitMQ at {self.safe_url} is unreachable after "
                    f"{self.settings.connect_timeout:g} s: {self.last_error!r}"
                ) from None
        assert self.publisher is not None
        return self.publisher

    def next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    def is_own_id(self, message_id: str | None) -> bool:
        return message_id is not None and message_id.startswith(self._id_prefix)

    async def publish(
        self, body: bytes, *, exchange: str, routing_key: str, mandatory: bool
    ) -> str:
        """Publish ``body`` and wait for the broker's confirmation; return a `Published` value.

        Raises:
            ConnectionError: No connection within ``connect_timeout``, or the connection was
                lost before the broker confirmed (the message may or may not be queued).
        """
        publisher = await self.wait_ready()
        properties = Basic.Properties(
            delivery_mode=1, message_id=self.next_id(), expiration=self.settings.expiration
        )
        try:
            # aiormq may leave a publish waiting forever when the connection dies under it:
            # the supervisor ends every guarded wait when it sees the loss. A link that stays
            # open but carries nothing (a stalled peer) is only noticed by the heartbeat,
            # minutes later: the broker's confirmation is waited for `connect_timeout` at most.
            async with asyncio.timeout(self.settings.connect_timeout) as guard:
                self._guards.add(guard)
                try:
                    result = await publisher.basic_publish(
                        body,
                        exchange=exchange,
                        routing_key=routing_key,
                        properties=properties,
                        mandatory=mandatory,
                    )
                finally:
                    self._guards.discard(guard)
        except (TimeoutError, asyncio.CancelledError) as error:
            _reraise_own_cancellation(error)
            raise ConnectionError(
                f"lost the connection to RabbitMQ at {self.safe_url}, or it did not confirm "
                f"within {self.settings.connect_timeout:g} s, while sending to "
                f"{routing_key!r}; the message may not have arrived"
            ) from error
        except aiormq.exceptions.DeliveryError as error:
            if isinstance(error.frame, Basic.Nack):
                return Published.REFUSED
            raise ConnectionError(f"RabbitMQ did not take the message: {error!r}") from error
        except (aiormq.exceptions.AMQPError, RuntimeError, OSError) as error:
            raise ConnectionError(
                f"lost the connection to RabbitMQ at {self.safe_url} while sending to "
                f"{routing_key!r}; the message may not have arrived: {error!r}"
            ) from error
        # With on_return_raises=False, a returned message comes back in place of the ack.
        if result is not None and not isinstance(result, Basic.Ack):
            return Published.UNROUTABLE
        return Published.ACCEPTED

    async def rpc(
        self, call: Callable[[AbstractChannel], Awaitable[Any]], *, plain: bool = False
    ) -> Any:
        """Run a declaration or binding on the publishing (or plain consumers') channel.

        The request is shielded: aiormq closes a channel whose request is cancelled, so a
        cancelled caller lets it finish instead.
        """
        publisher = await self.wait_ready()
        channel = self.plain if plain else publisher
        assert channel is not None
        request = asyncio.ensure_future(call(channel))
        request.add_done_callback(_forget)  # read its outcome if the caller stopped waiting
        async with self._answer("a request"):
            return await asyncio.shield(request)

    async def bind_elsewhere(self, queue: str, exchange: str, routing_key: str) -> bool:
        """Bind a queue this link did not declare; False when the broker has no such queue.

        A throwaway channel carries the bind, since the broker closes the channel of a bind
        that names a missing queue (and the publishing channel must stay open).
        """
        await self.wait_ready()
        connection = self.connection
        assert connection is not None
        async with self._answer("a binding"):
            scratch = await connection.channel(publisher_confirms=False)
            try:
                await scratch.queue_bind(queue, exchange, routing_key=routing_key)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return False
            await scratch.close()
        return True

    @contextlib.asynccontextmanager
    async def _answer(self, what: str) -> AsyncIterator[None]:
        """Bound a wait for the broker by ``connect_timeout``; its failures: `ConnectionError`."""
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                yield
        except (TimeoutError, asyncio.CancelledError) as error:
            _reraise_own_cancellation(error)
            raise ConnectionError(
                f"RabbitMQ at {self.safe_url} did not answer {what} within "
                f"{self.settings.connect_timeout:g} s, or the connection was lost"
            ) from error
        except (aiormq.exceptions.AMQPError, RuntimeError, OSError) as error:
            raise ConnectionError(
                f"RabbitMQ at {self.safe_url} refused or lost {what}: {error!r}"
            ) from error

    def ack_later(self, channel: AbstractChannel, tag: int) -> None:
        """Acknowledge ``tag`` and every earlier one on ``channel`` once this loop turn ends."""
        if channel is not self._ack_channel:
            self._flush_acks()
            self._ack_channel = channel
        self._ack_tag = tag
        if not self._ack_scheduled:
            self._ack_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_acks)

    def _flush_acks(self) -> None:
        self._ack_scheduled = False
        channel, tag = self._ack_channel, self._ack_tag
        self._ack_tag = 0
        if channel is not None and tag and not channel.is_closed:
            _spawn(channel.basic_ack(tag, multiple=True, wait=False))

    def ack_one(self, channel: AbstractChannel, tag: int) -> None:
        """Acknowledge exactly ``tag`` (a plain channel's message, handed to a receiver)."""
        if not channel.is_closed:
            _spawn(channel.basic_ack(tag, wait=False))

    async def aclose(self) -> None:
        self.closed = True
        self.ready.clear()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.connection is not None:
            await _close_quietly(self.connection)


_background: set[asyncio.Task[Any]] = set()


def _reraise_own_cancellation(error: BaseException) -> None:
    """Re-raise a `CancelledError` meant for the calling task; return for aiormq's own.

    aiormq cancels the futures of a connection it gives up on (a missed heartbeat), and
    that `CancelledError` reaches callers nobody cancelled: those get a `ConnectionError`.
    """
    task = asyncio.current_task()
    if isinstance(error, asyncio.CancelledError) and task is not None and task.cancelling():
        raise error


def _spawn(coroutine: Awaitable[Any]) -> None:
    task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_forget)


def _forget(task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.debug("RabbitMQ background request failed: %r", task.exception())


def _closing_error(connection: AbstractConnection) -> BaseException | None:
    closing = connection.closing
    if closing.cancelled():
        return None
    return closing.exception()


async def _close_quietly(connection: AbstractConnection) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await connection.close()


def wall_ms() -> int:
    return int(time.time() * 1000)
