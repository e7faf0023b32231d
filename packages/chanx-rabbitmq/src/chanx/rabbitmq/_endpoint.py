"""What one event loop holds: its process queue, local channel buffers and group memberships.

Topology, under the layer's ``prefix``:

- ``<prefix>.inbox``, a direct exchange: a process-specific channel ``<key>!<suffix>`` is
  reached with routing key ``<key>``; each process binds its one queue for the keys of the
  channels it made (one key per ``new_channel`` prefix, usually a single one).
- ``<prefix>.groups``, a direct exchange: a process binds its queue with the group's name
  while it has a member there, so one publish reaches every process with members, and each
  process hands the message to its own members.
- ``<prefix>.process.<id>``, the process queue: not exclusive, so it outlives a dropped
  connection (for ``queue_expiry`` seconds) and keeps what arrives meanwhile.
- ``<prefix>.channel.<name>``, one queue per plain channel (a name without ``!``), with
  ``x-max-length`` = ``capacity`` and ``x-overflow: reject-publish``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiormq.abc import DeliveredMessage

from chanx.core.layers import LossReporter
from chanx.rabbitmq._box import Ack, Box, Entry
from chanx.rabbitmq._envelope import CONTROL, DIRECT, GROUP, decode
from chanx.rabbitmq._link import Link, LinkSettings
from chanx.rabbitmq._stats import RabbitMQLayerStats

__all__ = ["Endpoint", "Settings"]

logger = logging.getLogger("chanx.rabbitmq")

_SEEN_LIMIT = 20_000


@dataclass(frozen=True)
class Settings:
    url: str
    prefix: str
    capacity: int
    expiry: float
    group_expiry: float
    queue_capacity: int
    queue_expiry: float
    connect_timeout: float
    prefetch: int
    stats: RabbitMQLayerStats


class Endpoint:
    """One event loop's share of the layer (Django's ``async_to_sync`` makes a loop per call)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = settings.stats
        self.client_id = uuid.uuid4().hex[:12]
        prefix = settings.prefix
        self.inbox_exchange = f"{prefix}.inbox"
        self.groups_exchange = f"{prefix}.groups"
        self.queue = f"{prefix}.process.{self.client_id}"
        self.inbox_keys: set[str] = set()
        self.boxes: dict[str, Box] = {}
        self._next_sweep = 0.0
        self.plain: dict[str, Box] = {}
        self.plain_consumers: set[str] = set()
        self.declared: set[str] = set()
        # group -> {channel: time added}, for this process's channels and plain channels.
        self.members: dict[str, dict[str, float]] = {}
        self.plain_members: dict[str, dict[str, float]] = {}
        self.bound: set[str] = set()
        self.barriers: dict[str, asyncio.Future[None]] = {}
        self._seen: dict[str, None] = {}
        self._down_since: float | None = None
        self.losses = LossReporter(logger)
        self.closed = False
        self.link = Link(
            LinkSettings(
                url=settings.url,
                connect_timeout=settings.connect_timeout,
                prefetch=settings.prefetch,
                expiration=str(max(1, int(settings.expiry * 1000))),
                connection_name=f"chanx-rabbitmq {self.client_id}",
            ),
            on_connect=self._declare,
            on_lost=self._lost,
        )

    # -- names ---------------------------------------------------------------------------

    def box(self, channel: str) -> Box:
        """The mailbox of one of this loop's process-specific channels, made on first use."""
        box = self.boxes.get(channel)
        if box is None:
            self._sweep_when_due()
            box = self.boxes[channel] = Box()
        return box

    def release(self, channel: str, box: Box) -> None:
        """After a receive: drop the mailbox if it is idle (made again when needed)."""
        if box.idle() and self.boxes.get(channel) is box:
            del self.boxes[channel]

    def _sweep_when_due(self) -> None:
        # Mailboxes of channels nobody receives on any more (closed consumers) hold what
        # arrived after their last receive: once per expiry, those messages expire and the
        # empty mailboxes go (every connection served used to leave one for good).
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + max(1.0, self.settings.expiry)
        for channel, box in list(self.boxes.items()):
            if not box.waiting:
                box.drop_expired(self._expired)
                if not box.items:
                    del self.boxes[channel]

    def owns(self, channel: str) -> bool:
        key, bang, _ = channel.partition("!")
        return bool(bang) and key in self.inbox_keys

    def plain_queue(self, channel: str) -> str:
        return f"{self.settings.prefix}.channel.{channel}"

    def plain_arguments(self) -> dict[str, Any]:
        return {
            "x-max-length": self.settings.capacity,
            "x-overflow": "reject-publish",
            "x-message-ttl": max(1, int(self.settings.expiry * 1000)),
            "x-expires": max(1, int(self.settings.queue_expiry * 1000)),
        }

    # -- connection lifecycle ------------------------------------------------------------

    async def _declare(self, link: Link, reconnecting: bool) -> None:
        assert link.publisher is not None
        assert link.consumer is not None
        publisher, consumer = link.publisher, link.consumer
        for exchange in (self.inbox_exchange, self.groups_exchange):
            await publisher.exchange_declare(exchange, exchange_type="direct")
        kept = not reconnecting or await self._queue_exists(link)
        await consumer.queue_declare(
            self.queue,
            arguments={
                "x-max-length": self.settings.queue_capacity,
                "x-overflow": "reject-publish",
                "x-expires": max(1, int(self.settings.queue_expiry * 1000)),
            },
        )
        for key in self.inbox_keys:
            await consumer.queue_bind(self.queue, self.inbox_exchange, routing_key=key)
        self.bound = set(self.members)
        for group in self.bound:
            await consumer.queue_bind(self.queue, self.groups_exchange, routing_key=group)
        await consumer.basic_consume(self.queue, self._on_message)
        self.declared.clear()
        arguments = self.plain_arguments()
        for group, channels in self.plain_members.items():
            for channel in channels:
                queue = self.plain_queue(channel)
                await publisher.queue_declare(queue, arguments=arguments)
                await publisher.queue_bind(queue, self.groups_exchange, routing_key=group)
                self.declared.add(channel)
        assert link.plain is not None
        for channel in self.plain_consumers:
            queue = self.plain_queue(channel)
            await publisher.queue_declare(queue, arguments=arguments)
            self.declared.add(channel)
            await link.plain.basic_consume(queue, self._plain_arrival(channel))
        if reconnecting:
            self._reconnected(kept)

    async def _queue_exists(self, link: Link) -> bool:
        assert link.connection is not None
        probe = await link.connection.channel(publisher_confirms=False)
        try:
            await probe.queue_declare(self.queue, passive=True)
        except Exception:
            return False
        await probe.close()
        return True

    def _lost(self, cause: BaseException | None) -> None:
        self._down_since = time.time()
        self.stats.disconnects += 1
        # Unacknowledged plain-channel messages go back to their queues: drop our copies.
        for box in self.plain.values():
            box.items = type(box.items)(entry for entry in box.items if entry[2] is None)
        logger.warning(
            "lost the connection to RabbitMQ at %s (%r); reconnecting. Sends wait up to "
            "%g s and raise ConnectionError if it does not come back.",
            self.link.safe_url,
            cause,
            self.settings.connect_timeout,
        )

    def _reconnected(self, kept: bool) -> None:
        self.stats.reconnects += 1
        down_since = self._down_since or time.time()
        outage = time.time() - down_since
        if kept:
            logger.info(
                "reconnected to RabbitMQ after %.2f s; queue %s was kept, nothing was lost",
                outage,
                self.queue,
            )
            return
        self.stats.possible_loss += 1
        logger.warning(
            "reconnected to RabbitMQ after %.2f s, but queue %s was gone (a broker restart, "
            "or an outage longer than queue_expiry=%g s): messages queued for this process's "
            "channels from %s until now are lost; its queue, bindings and %d group "
            "membership(s) are declared again",
            outage,
            self.queue,
            self.settings.queue_expiry,
            time.strftime("%H:%M:%S", time.localtime(down_since)),
            sum(len(channels) for channels in self.members.values()),
        )

    # -- arrivals ------------------------------------------------------------------------

    async def _on_message(self, message: DeliveredMessage) -> None:
        # No await in here: aiormq runs one task per delivery, in order, so order is kept.
        channel = message.channel
        tag = message.delivery_tag
        if tag is not None:
            self.link.ack_later(channel, tag)
        message_id = message.header.properties.message_id
        if not self._first_time(message_id, bool(message.redelivered)):
            return
        kind, target, sent_ms, payload = decode(message.body)
        deadline = sent_ms / 1000 + self.settings.expiry
        if kind == DIRECT:
            self._arrive(target, deadline, payload)
        elif kind == GROUP:
            # This process's own members got their copy when it was sent.
            if not self.link.is_own_id(message_id):
                self.fan_out(target, deadline, payload)
        elif kind == CONTROL:
            self._control(target, payload)

    def _first_time(self, message_id: str | None, redelivered: bool) -> bool:
        """Remember recent message ids, so a redelivery after a lost ack is dropped."""
        if message_id is None:
            return True
        if redelivered and message_id in self._seen:
            self.stats.duplicates += 1
            return False
        self._seen[message_id] = None
        if len(self._seen) > _SEEN_LIMIT:
            del self._seen[next(iter(self._seen))]
        return True

    def _arrive(self, channel: str, deadline: float, payload: dict[str, Any]) -> None:
        box = self.box(channel)
        if deadline < time.time():
            self.stats.expired += 1
            return
        if len(box) >= self.settings.capacity:
            box.drop_expired(self._expired)
        if len(box) >= self.settings.capacity:
            self.stats.full_drops += 1
            self.warn(
                "full",
                "dropped a message for channel %r: it holds its capacity of %d messages and "
                "its sender is in another process (%d such drop(s) so far)",
                channel,
                self.settings.capacity,
                self.stats.full_drops,
            )
            return
        box.put((deadline, payload, None))

    def fan_out(self, group: str, deadline: float, payload: dict[str, Any]) -> None:
        members = self.members.get(group)
        if not members:
            return
        now = time.time()
        if deadline < now:
            self.stats.expired += 1
            return
        cutoff = now - self.settings.group_expiry
        capacity = self.settings.capacity
        for channel, added in list(members.items()):
            if added < cutoff:
                self.forget_member(group, channel)
                continue
            box = self.box(channel)
            if len(box) >= capacity:
                box.drop_expired(self._expired)
                if len(box) >= capacity:
                    self.stats.group_drops += 1
                    self.warn(
                        "group-full",
                        "dropped a message to group %r for member %r: the member holds its "
                        "capacity of %d messages (%d such drop(s) so far)",
                        group,
                        channel,
                        capacity,
                        self.stats.group_drops,
                    )
                    continue
            box.put((deadline, payload, None))
            self.stats.group_deliveries += 1

    def _control(self, target: str, payload: dict[str, Any]) -> None:
        operation, channel = payload.get("op"), payload.get("channel", "")
        if operation == "flush":
            self._flushed()
            barrier = self.barriers.pop(target, None)
            if barrier is not None and not barrier.done():
                barrier.set_result(None)
        elif operation == "add" and self.owns(channel):
            self.members.setdefault(target, {})[channel] = payload.get("added", time.time())
            if target not in self.bound:
                self.bound.add(target)
                self.background(self.bind_group(target))
        elif operation == "discard" and self.owns(channel):
            self.forget_member(target, channel)

    def _expired(self, entry: Entry) -> None:
        self.stats.expired += 1
        if entry[2] is not None:
            channel, tag = entry[2]
            self.link.ack_one(channel, tag)

    # -- memberships ---------------------------------------------------------------------

    def forget_member(self, group: str, channel: str) -> None:
        members = self.members.get(group)
        if members is None or members.pop(channel, None) is None:
            return
        if not members:
            del self.members[group]
            if group in self.bound:
                self.bound.discard(group)
                self.background(self.unbind_group(group))

    async def bind_group(self, group: str) -> None:
        await self.link.rpc(
            lambda ch: ch.queue_bind(self.queue, self.groups_exchange, routing_key=group)
        )

    async def bind_remote(self, group: str, channel: str) -> bool:
        """Bind the queue of the process that reads ``channel`` to ``group``, and wait for it.

        The owner binds on its own when the control message reaches it, but only in the
        background: a group message published before that bind would be routed nowhere.
        Binding here first (the owner's queue name follows from the channel name) makes a
        ``group_send`` issued after ``group_add`` returns reach the new member. A missing
        queue means the owner is gone: there is nobody to add (False).
        """
        client_id = channel.partition("!")[0][-12:]
        queue = f"{self.settings.prefix}.process.{client_id}"
        return await self.link.bind_elsewhere(queue, self.groups_exchange, group)

    async def unbind_group(self, group: str) -> None:
        if group in self.members:  # re-joined meanwhile
            return
        await self.link.rpc(
            lambda ch: ch.queue_unbind(self.queue, self.groups_exchange, routing_key=group)
        )

    # -- plain channels ------------------------------------------------------------------

    async def declare_plain(self, channel: str) -> None:
        if channel not in self.declared:
            queue, arguments = self.plain_queue(channel), self.plain_arguments()
            await self.link.rpc(lambda ch: ch.queue_declare(queue, arguments=arguments))
            self.declared.add(channel)

    async def consume_plain(self, channel: str) -> None:
        if channel in self.plain_consumers:
            return
        self.plain_consumers.add(channel)
        try:
            await self.declare_plain(channel)
            queue, arrive = self.plain_queue(channel), self._plain_arrival(channel)
            await self.link.rpc(lambda ch: ch.basic_consume(queue, arrive), plain=True)
        except BaseException:
            self.plain_consumers.discard(channel)
            raise

    def _plain_arrival(
        self, channel: str
    ) -> Callable[[DeliveredMessage], Coroutine[Any, Any, None]]:
        async def arrive(message: DeliveredMessage) -> None:
            tag = message.delivery_tag
            ack: Ack | None = None if tag is None else (message.channel, tag)
            if not self._first_time(
                message.header.properties.message_id, bool(message.redelivered)
            ):
                if ack is not None:
                    self.link.ack_one(*ack)
                return
            _, _, sent_ms, payload = decode(message.body)
            box = self.plain.setdefault(channel, Box())
            box.put((sent_ms / 1000 + self.settings.expiry, payload, ack))

        return arrive

    async def unbind_plain(self, group: str, channel: str) -> None:
        queue, exchange = self.plain_queue(channel), self.groups_exchange
        await self.link.rpc(lambda ch: ch.queue_unbind(queue, exchange, routing_key=group))

    async def purge_plain(self, channel: str) -> None:
        queue = self.plain_queue(channel)
        await self.link.rpc(lambda ch: ch.queue_purge(queue))

    def hand_over(self, entry: Entry) -> dict[str, Any]:
        if entry[2] is not None:
            self.link.ack_one(*entry[2])
        return entry[1]

    def expired(self, entry: Entry) -> None:
        self._expired(entry)

    # -- flush, warnings, close ----------------------------------------------------------

    def _flushed(self) -> None:
        for box in self.boxes.values():
            box.take_all()
        for box in self.plain.values():
            for entry in box.take_all():
                if entry[2] is not None:
                    self.link.ack_one(*entry[2])
        self.members.clear()
        self.plain_members.clear()
        self.bound.clear()

    def warn(self, cause: str, text: str, *args: Any) -> None:
        """Report a lost message: the first of an incident at once, the rest summed."""
        self.losses.occurrence(cause, time.time(), text % args)

    def background(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        task.add_done_callback(_log_failure)

    async def aclose(self) -> None:
        self.closed = True
        self.losses.close()  # what open incidents counted since their first line
        await self.link.aclose()


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("a RabbitMQ binding change failed: %r", task.exception())
