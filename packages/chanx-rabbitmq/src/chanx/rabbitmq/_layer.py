"""`RabbitMQChannelLayer`: the Channels layer protocol on one AMQP queue per process."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
import weakref
from typing import Any

from chanx.core.layers import (
    ChannelFull,
    close_with_loop,
    require_valid_channel_name,
    require_valid_group_name,
)
from chanx.rabbitmq._box import Box
from chanx.rabbitmq._endpoint import Endpoint, Settings
from chanx.rabbitmq._envelope import CONTROL, DIRECT, GROUP, decode, encode
from chanx.rabbitmq._link import Published, wall_ms
from chanx.rabbitmq._stats import RabbitMQLayerStats
from chanx.rabbitmq._url import split_url

__all__ = ["RabbitMQChannelLayer"]

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


class RabbitMQChannelLayer:
    """Channel layer on RabbitMQ: one queue per process, group fan-out by the broker.

    Args:
        url: the broker, ``amqp://user:password@host:port/vhost`` (``amqps://`` for TLS).
        prefix: namespace of the exchanges and queues the layer declares.
        capacity: messages a channel holds before ``send`` raises `ChannelFull`.
        expiry: seconds a message waits for its receiver before it is dropped.
        group_expiry: seconds a group membership lasts unless ``group_add`` renews it.
        queue_capacity: messages the process queue holds in the broker while the process
            is not reading it; beyond it, sends to the process raise `ChannelFull`.
        queue_expiry: seconds the broker keeps a process queue nobody reads (a process that
            is gone, or one whose connection is down); its messages then are lost.
        connect_timeout: seconds an operation waits for a connection, and then for the
            broker's answer (a publish confirmation, a binding), before it raises
            `ConnectionError`.
        prefetch: messages the broker pushes to the process before it acknowledges them.
    """

    extensions: list[str] = ["groups", "flush"]  # noqa: RUF012 - the Channels spec's shape

    def __init__(
        self,
        url: str = "amqp://guest:guest@127.0.0.1:5672/",
        *,
        prefix: str = "chanx",
        capacity: int = 100,
        expiry: float = 60,
        group_expiry: float = 86400,
        queue_capacity: int = 100_000,
        queue_expiry: float = 60,
        connect_timeout: float = 10,
        prefetch: int = 1000,
    ) -> None:
        broker_url, _ = split_url(url)
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise TypeError(f"expected a prefix of [A-Za-z0-9_.:-], but got {prefix!r}")
        for name, value in (
            ("capacity", capacity),
            ("queue_capacity", queue_capacity),
            ("prefetch", prefetch),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"expected a positive int {name}, but got {value!r}")
        for name, number in (
            ("expiry", expiry),
            ("group_expiry", group_expiry),
            ("queue_expiry", queue_expiry),
            ("connect_timeout", connect_timeout),
        ):
            if not isinstance(number, int | float) or not number > 0:
                raise ValueError(f"expected a positive number {name}, but got {number!r}")
        self.url = broker_url
        self.prefix = prefix
        self.capacity = capacity
        self.expiry = expiry
        self.group_expiry = group_expiry
        self.stats = RabbitMQLayerStats()
        self._settings = Settings(
            url=broker_url,
            prefix=prefix,
            capacity=capacity,
            expiry=expiry,
            group_expiry=group_expiry,
            queue_capacity=queue_capacity,
            queue_expiry=queue_expiry,
            connect_timeout=connect_timeout,
            prefetch=prefetch,
            stats=self.stats,
        )
        self._endpoints: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Endpoint] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RabbitMQChannelLayer:
        """Build a layer from ``amqp://`` or ``amqps://`` URL.

        The query string may set the layer's options (``prefix``, ``capacity``,
        ``expiry``, ``group_expiry``, ``queue_capacity``, ``queue_expiry``,
        ``connect_timeout``, ``prefetch``); other parameters (such as ``heartbeat``) go to
        the AMQP client. Keyword ``options`` win over the query string.
        """
        broker_url, url_options = split_url(url)
        return cls(broker_url, **{**url_options, **options})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._endpoint_url()!r}, prefix={self.prefix!r})"

    def _endpoint_url(self) -> str:
        return re.sub(r"//[^@/]*@", "//", self.url)

    def _endpoint(self) -> Endpoint:
        loop = asyncio.get_running_loop()
        endpoint = self._endpoints.get(loop)
        if endpoint is None or endpoint.closed:
            endpoint = self._endpoints[loop] = Endpoint(self._settings)
            close_with_loop(loop, self._endpoints)
        return endpoint

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` on ``channel``; raise `ChannelFull` when it holds ``capacity``.

        Raises:
            ChannelFull: The channel, or the process queue behind it, is full.
            ConnectionError: The broker is unreachable, or the connection was lost before it
                confirmed the message.
        """
        channel = require_valid_channel_name(channel)
        endpoint = self._endpoint()
        key, bang, _ = channel.partition("!")
        if not bang:
            body = encode(DIRECT, channel, wall_ms(), message)
            await endpoint.declare_plain(channel)
            result = await endpoint.link.publish(
                body, exchange="", routing_key=endpoint.plain_queue(channel), mandatory=True
            )
            self._sent(channel, result)
            return
        if endpoint.owns(channel):
            self._send_here(endpoint, channel, message)
            return
        body = encode(DIRECT, channel, wall_ms(), message)
        result = await endpoint.link.publish(
            body, exchange=endpoint.inbox_exchange, routing_key=key, mandatory=True
        )
        self._sent(channel, result)
        if result == Published.UNROUTABLE:
            endpoint.warn(
                "unroutable",
                "no process reads channel %r (its process is gone?): the message was dropped "
                "(%d such send(s) so far)",
                channel,
                self.stats.unroutable,
            )

    def _send_here(self, endpoint: Endpoint, channel: str, message: dict[str, Any]) -> None:
        """Deliver to a channel this event loop reads, without the broker.

        The receiver gets a decoded copy, as it would from another process. Group messages
        to this loop's members are delivered here too, so the order of everything one loop
        sends to its own channels is the order of the calls.
        """
        box = endpoint.box(channel)
        if len(box) >= self.capacity:
            box.drop_expired(endpoint.expired)
            if len(box) >= self.capacity:
                self.stats.channel_full += 1
                raise ChannelFull(f"channel {channel!r} is at its capacity of {self.capacity}")
        copy = decode(encode(DIRECT, channel, 0, message))[3]
        box.put((time.time() + self.expiry, copy, None))
        self.stats.sent += 1

    def _sent(self, channel: str, result: str) -> None:
        if result == Published.REFUSED:
            self.stats.channel_full += 1
            raise ChannelFull(f"channel {channel!r} (or the queue behind it) is full")
        if result == Published.UNROUTABLE:
            self.stats.unroutable += 1
            return
        self.stats.sent += 1

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for the next message on ``channel``; cancelling the wait loses no message."""
        channel = require_valid_channel_name(channel)
        endpoint = self._endpoint()
        if "!" in channel:
            box = endpoint.box(channel)
            try:
                entry = await box.get_live(endpoint.expired)
            finally:
                endpoint.release(channel, box)
        else:
            box = endpoint.plain.setdefault(channel, Box())
            if channel not in endpoint.plain_consumers:
                await endpoint.consume_plain(channel)
            entry = await box.get_live(endpoint.expired)
        self.stats.received += 1
        return endpoint.hand_over(entry)

    async def new_channel(self, prefix: str = "specific.") -> str:
        """Return a new process-specific channel name, ``<prefix><process id>!<unique>``."""
        endpoint = self._endpoint()
        key = f"{prefix}{endpoint.client_id}"
        name = require_valid_channel_name(f"{key}!{uuid.uuid4().hex[:12]}")
        if key not in endpoint.inbox_keys:
            await endpoint.link.rpc(
                lambda ch: ch.queue_bind(endpoint.queue, endpoint.inbox_exchange, routing_key=key)
            )
            endpoint.inbox_keys.add(key)
        endpoint.box(name)
        return name

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``, renewing the membership's ``group_expiry``."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        endpoint = self._endpoint()
        now = time.time()
        self._expire_plain_members(endpoint, now)
        if endpoint.owns(channel):
            endpoint.members.setdefault(group, {})[channel] = now
            if group not in endpoint.bound:
                await endpoint.bind_group(group)
                endpoint.bound.add(group)
        elif "!" not in channel:
            await endpoint.declare_plain(channel)
            queue = endpoint.plain_queue(channel)
            await endpoint.link.rpc(
                lambda ch: ch.queue_bind(queue, endpoint.groups_exchange, routing_key=group)
            )
            endpoint.plain_members.setdefault(group, {})[channel] = now
        elif await endpoint.bind_remote(group, channel):
            added = {"op": "add", "channel": channel, "added": now}
            await self._control(endpoint, group, added)
        # else: the process that read the channel is gone, so there is nobody to add

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; nothing happens when it is not a member."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        endpoint = self._endpoint()
        if endpoint.owns(channel):
            endpoint.forget_member(group, channel)
        elif "!" not in channel:
            members = endpoint.plain_members.get(group, {})
            members.pop(channel, None)
            if not members:
                endpoint.plain_members.pop(group, None)
            await endpoint.unbind_plain(group, channel)
        else:
            await self._control(endpoint, group, {"op": "discard", "channel": channel})

    async def _control(self, endpoint: Endpoint, group: str, change: dict[str, Any]) -> None:
        """Ask the process that reads ``change["channel"]`` to change its membership."""
        key = change["channel"].partition("!")[0]
        await endpoint.link.publish(
            encode(CONTROL, group, wall_ms(), change),
            exchange=endpoint.inbox_exchange,
            routing_key=key,
            mandatory=False,
        )

    def _expire_plain_members(self, endpoint: Endpoint, now: float) -> None:
        cutoff = now - self.group_expiry
        for group, members in list(endpoint.plain_members.items()):
            for channel, added in list(members.items()):
                if added < cutoff:
                    del members[channel]
                    endpoint.background(endpoint.unbind_plain(group, channel))
            if not members:
                del endpoint.plain_members[group]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of ``group``: one publish, fanned out by the broker.

        Full members are skipped (counted in ``stats.group_drops``, or ``stats.refused``
        for a full queue in the broker).
        """
        group = require_valid_group_name(group)
        endpoint = self._endpoint()
        sent_ms = wall_ms()
        body = encode(GROUP, group, sent_ms, message)
        self._expire_plain_members(endpoint, time.time())
        if group in endpoint.members:
            endpoint.fan_out(group, sent_ms / 1000 + self.expiry, decode(body)[3])
        result = await endpoint.link.publish(
            body, exchange=endpoint.groups_exchange, routing_key=group, mandatory=False
        )
        self.stats.group_sends += 1
        if result == Published.REFUSED:
            self.stats.refused += 1
            endpoint.warn(
                "refused",
                "a full queue refused a message of group %r; its members there miss it "
                "(%d such refusal(s) so far)",
                group,
                self.stats.refused,
            )

    async def flush(self) -> None:
        """Drop this layer's groups everywhere, and the messages queued for this process."""
        endpoint = self._endpoint()
        link = endpoint.link
        await link.rpc(lambda ch: ch.exchange_delete(endpoint.groups_exchange))
        await link.rpc(
            lambda ch: ch.exchange_declare(endpoint.groups_exchange, exchange_type="direct")
        )
        for channel in list(endpoint.declared):
            await endpoint.purge_plain(channel)
        # Everything queued before this barrier is dropped when it arrives.
        token = uuid.uuid4().hex
        barrier = endpoint.barriers[token] = asyncio.get_running_loop().create_future()
        await link.publish(
            encode(CONTROL, token, wall_ms(), {"op": "flush"}),
            exchange="",
            routing_key=endpoint.queue,
            mandatory=True,
        )
        try:
            async with asyncio.timeout(self._settings.connect_timeout):
                await barrier
        finally:
            endpoint.barriers.pop(token, None)

    async def close(self) -> None:
        """Close this event loop's connection (other loops close theirs with the loop)."""
        endpoint = self._endpoints.pop(asyncio.get_running_loop(), None)
        if endpoint is not None:
            await endpoint.aclose()
