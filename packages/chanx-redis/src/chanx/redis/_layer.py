"""The Redis channel layer: one inbox per process, one round trip per send."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import re
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from chanx.core.layers import (
    ChannelFull,
    LossReporter,
    close_with_loop,
    require_valid_channel_name,
    require_valid_group_name,
)
from chanx.redis._connection import HashRing, Shard, parse_hosts, parse_url
from chanx.redis._groups import Groups
from chanx.redis._keeper import Keeper
from chanx.redis._scripts import DELIVER, channel_key, counts_key, inbox_key, key_patterns
from chanx.redis._serializer import Serializer, resolve_serializer
from chanx.redis._settings import Settings
from chanx.redis._state import LoopState
from chanx.redis._stats import RedisLayerStats

__all__ = ["RedisChannelLayer"]

logger = logging.getLogger("chanx.redis")


class ForeignChannelError(ValueError, AssertionError):
    """``receive`` on a process-specific channel that another layer made.

    An `AssertionError` too, because channels_redis raises one there and code written for
    it may catch that.
    """


class RedisChannelLayer:
    """Channel layer on Redis (single server, sharded servers, Sentinel or Redis Cluster).

    Args:
        hosts: one entry per shard: ``("host", port)``, a ``redis://``/``rediss://`` URL, or
            a dict of redis-py connection options (``{"address": url, ...}``, or
            ``{"sentinels": [(host, port)], "master_name": name, ...}``, or
            ``{"cluster_nodes": [(host, port)], ...}``). Names are spread over several
            shards by consistent hashing.
        prefix: namespace of every Redis key the layer writes.
        expiry: seconds a message waits for its receiver before it is dropped.
        group_expiry: seconds a group membership lasts unless ``group_add`` renews it; a
            channel of this process that has a receiver renews its memberships, so it
            expires ``group_expiry`` after its last receive.
        capacity: messages a channel holds before ``send`` raises `ChannelFull`.
        channel_capacity: per-channel capacities: glob patterns or compiled regexes mapped
            to a capacity; the first match wins.
        serializer: ``"msgpack"`` (the default on every machine), ``"json"``, or an object
            with ``dumps``/``loads``. Every process sharing the prefix must use the same.
        pool_size: connections per shard; more concurrent commands wait for a free one.
        pool_timeout: seconds a command waits for a free connection before failing.
        heal_interval: seconds between two re-assertions of this process's memberships in
            Redis (at most ``group_expiry / 4``); also done at once after a reconnect.
    """

    extensions: list[str] = ["groups", "flush"]  # noqa: RUF012 - the Channels spec's shape

    def __init__(
        self,
        hosts: Sequence[Any] | None = None,
        *,
        prefix: str = "asgi",
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[str | re.Pattern[str], int] | None = None,
        serializer: Serializer | str | None = "msgpack",
        pool_size: int = 100,
        pool_timeout: float = 10.0,
        heal_interval: float = 5.0,
    ) -> None:
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", prefix):
            raise TypeError(f"expected a prefix of [A-Za-z0-9_.:-], but got {prefix!r}")
        for name, value in (("capacity", capacity), ("pool_size", pool_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"expected a positive int {name}, but got {value!r}")
        if not isinstance(heal_interval, int | float) or heal_interval <= 0:
            raise ValueError(f"expected a positive heal_interval, but got {heal_interval!r}")
        self.hosts = parse_hosts(hosts)
        self.prefix = prefix
        self.expiry = expiry
        self.group_expiry = group_expiry
        self.capacity = capacity
        self.channel_capacity = [
            (re.compile(fnmatch.translate(pattern)) if isinstance(pattern, str) else pattern, cap)
            for pattern, cap in (channel_capacity or {}).items()
        ]
        self.serializer = resolve_serializer(serializer)
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.heal_interval = min(float(heal_interval), group_expiry / 4)
        self.stats = RedisLayerStats()
        self.client_id = uuid.uuid4().hex[:16]
        self._ring = HashRing(len(self.hosts))
        self._reporter = LossReporter(logger, self.stats.record_incident)
        self._settings = Settings(
            expiry=expiry,
            capacity_for=self.capacity_for,
            serializer=self.serializer,
            stats=self.stats,
            reporter=self._reporter,
            on_recovered=self._recovered,
        )
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._groups = Groups(prefix=prefix, group_expiry=group_expiry, settings=self._settings)
        # Shards this layer has warned about (an evicting maxmemory-policy, INFO refused).
        self._looked_at: set[int] = set()
        self._keepers: weakref.WeakKeyDictionary[LoopState, Keeper] = weakref.WeakKeyDictionary()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisChannelLayer:
        """Build a layer from a URL.

        ``redis://[:password@]host:port/db``, ``rediss://...``,
        ``redis+sentinel://host:port,host:port/service_name[/db]`` and
        ``redis+cluster://host:port[,host:port]``; the query string may set ``prefix``,
        ``expiry``, ``group_expiry`` and ``capacity``. Keyword ``options`` win over it.
        """
        hosts, url_options = parse_url(url)
        return cls(hosts, **{**url_options, **options})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hosts={self.hosts!r}, prefix={self.prefix!r})"

    def _state(self) -> LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None or state.closed:
            state = self._states[loop] = LoopState(
                self.hosts,
                self._ring,
                prefix=self.prefix,
                pool_size=self.pool_size,
                pool_timeout=self.pool_timeout,
                settings=self._settings,
            )
            close_with_loop(loop, self._states)
        return state

    def capacity_for(self, channel: str) -> int:
        """Return ``channel``'s capacity: its first ``channel_capacity`` match, or ``capacity``."""
        for pattern, cap in self.channel_capacity:
            if pattern.match(channel):
                return cap
        return self.capacity

    def _now_ms(self) -> int:
        return int(time.time() * 1000)

    def _encode(self, message: object) -> bytes:
        if not isinstance(message, dict):
            raise TypeError(f"expected a message dict, but got {message!r}")
        return self.serializer.dumps(message)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` on ``channel``; raise `ChannelFull` when it holds ``capacity``."""
        channel = require_valid_channel_name(channel)
        payload = self._encode(message)
        state = self._state()
        inbox, bang, suffix = channel.partition("!")
        cap = self.capacity_for(channel)
        if bang:
            local = state.inboxes.get(inbox)
            if local is not None:
                # Read here: skip Redis. Decoding our own bytes gives the receiver the same
                # copy another process would get.
                if not local.deliver_local(suffix, self.serializer.loads(payload), cap):
                    self.stats.channel_full += 1
                    raise ChannelFull(f"channel {channel!r} is at its capacity of {cap} messages")
                self.stats.sent += 1
                return
            keys = [inbox_key(self.prefix, inbox), counts_key(self.prefix, inbox)]
            shard = state.shard_for(inbox)
            spec: list[Any] = ["i" if shard.is_cluster else "p", suffix, cap]
        else:
            keys = [channel_key(self.prefix, channel)]
            spec, shard = ["l", cap], state.shard_for(channel)
        args = [self._now_ms(), int(self.expiry * 1000), payload, *spec]
        _, dropped = await shard.run_script(DELIVER, keys, args)
        if dropped:
            self.stats.channel_full += 1
            raise ChannelFull(f"channel {channel!r} is at its capacity of {cap} messages")
        self.stats.sent += 1

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for the next message on ``channel``; cancelling the wait loses no message.

        Raises:
            ValueError: ``channel`` is process-specific but was not made by this layer (the
                exception is an `AssertionError` too, which channels_redis raises there).
        """
        channel = require_valid_channel_name(channel)
        inbox, bang, suffix = channel.partition("!")
        if bang and not inbox.endswith(self.client_id):
            # Nothing would ever arrive: only the layer that made the name reads its inbox.
            raise ForeignChannelError(
                f"expected a process-specific channel made by this layer's new_channel() "
                f"(its part before '!' ends with {self.client_id!r}), but got {channel!r}"
            )
        state = self._state()
        if bang:
            message = await state.inbox(inbox).receive(suffix)
        else:
            message = await state.puller(channel).receive()
        self.stats.received += 1
        return message

    async def new_channel(self, prefix: str = "specific.") -> str:
        """Return a new process-specific channel name, ``<prefix><process id>!<unique>``."""
        name = require_valid_channel_name(f"{prefix}{self.client_id}!{uuid.uuid4().hex[:16]}")
        state = self._state()
        state.inbox(f"{prefix}{self.client_id}")
        if state not in self._keepers:
            self._keepers[state] = Keeper(
                state,
                self._groups.memberships,
                prefix=self.prefix,
                group_expiry=self.group_expiry,
                interval=self.heal_interval,
                stats=self.stats,
                reporter=self._reporter,
                looked_at=self._looked_at,
            )
        return name

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``, renewing the membership's ``group_expiry``."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        await self._groups.add(self._state(), group, channel, local=self._is_local(channel))

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; nothing happens when it is not a member."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        await self._groups.discard(self._state(), group, channel, local=self._is_local(channel))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of ``group``; full members are skipped and counted."""
        group = require_valid_group_name(group)
        payload = self._encode(message)
        await self._groups.send(self._state(), group, payload)

    async def flush(self) -> None:
        """Delete every message, inbox and group under this layer's prefix, on every shard."""
        state = self._state()
        self._groups.memberships.clear()
        keeper = self._keepers.get(state)
        async with keeper.lock if keeper is not None else contextlib.nullcontext():
            for shard in state.shards:
                for pattern in key_patterns(self.prefix):
                    keys = [key async for key in shard.client.scan_iter(match=pattern, count=1000)]
                    for start in range(0, len(keys), 500):
                        batch = keys[start : start + 500]
                        if shard.is_cluster:
                            await asyncio.gather(*(shard.execute("UNLINK", key) for key in batch))
                        else:
                            await shard.execute("UNLINK", *batch)
        state.clear_local()

    async def close(self) -> None:
        """Stop this event loop's background readers and close its connections."""
        loop = asyncio.get_running_loop()
        state = self._states.pop(loop, None)
        if state is not None:
            await state.aclose()
        self._reporter.close()  # what open incidents counted since their first line

    async def close_pools(self) -> None:
        """Same as `close`: channels_redis's name, for code written against it."""
        await self.close()

    @property
    def client_prefix(self) -> str:
        """channels_redis's name for `client_id`, the mark of this layer's channel names."""
        return self.client_id

    def _is_local(self, channel: str) -> bool:
        inbox, bang, _ = channel.partition("!")
        return bool(bang) and inbox.endswith(self.client_id)

    async def _recovered(self, shard: Shard) -> None:
        """After an outage: the keeper looks for a restart and restores memberships now."""
        state = self._states.get(asyncio.get_running_loop())
        keeper = self._keepers.get(state) if state is not None else None
        if keeper is not None:
            keeper.wake()
