"""The in-memory channel layer: one process, asyncio, any number of event loops and threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import threading
from collections import deque
from collections.abc import Mapping
from fnmatch import translate
from time import monotonic
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chanx.core.layers._base import (
    ChannelFull,
    require_valid_channel_name,
    require_valid_group_name,
)
from chanx.core.layers._drops import DropLog

__all__ = ["InMemoryChannelLayer"]

logger = logging.getLogger("chanx.layers.memory")
# Seconds between sweeps of receive times that renew no membership (at most).
RECEIVER_SWEEP = 60.0

_URL_OPTIONS: dict[str, type[int] | type[float]] = {
    "expiry": float,
    "group_expiry": float,
    "capacity": int,
}


class _Channel:
    """One channel's queue of ``(expires_at, message)`` and the receivers waiting on it.

    Most channels belong to an idle connection: one receiver waiting, nothing queued. So
    the queue is made by the first message and dropped when a receiver empties it (an
    empty deque costs ~600 bytes), and waiters are a list (usually of one, ~90 bytes).
    """

    __slots__ = ("capacity", "queue", "waiters")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.queue: deque[tuple[float, dict[str, Any]]] | None = None
        self.waiters: list[asyncio.Future[None]] = []


def _notify(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _require_message(message: object) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise TypeError(f"Message must be a dict, but got {message!r}")
    if "type" not in message:
        raise ValueError(f"Message must have a 'type' key, but got {message!r}")
    return message


class InMemoryChannelLayer:
    """A channel layer living in this process's memory, for development and tests.

    Each channel is a bounded queue; groups map to their members, so ``group_send`` costs
    O(members). It runs on asyncio; senders may run in other threads and on other event
    loops than receivers (``async_to_sync(layer.group_send)(...)`` from sync code works).

    Messages are not copied: every receiver of a ``group_send`` gets the same dict, so
    received messages must be treated as read-only.

    Args:
        expiry: Seconds a message waits in a channel before it is dropped.
        group_expiry: Seconds a group membership lasts unless ``group_add`` refreshes it. A
            channel someone receives on renews its memberships: it expires ``group_expiry``
            after its last ``receive`` (a waiting receiver counts as receiving now), so a
            live connection never drops out of its groups.
        capacity: Messages a channel holds before ``send`` raises `ChannelFull`.
        channel_capacity: Capacity overrides by channel-name glob pattern, such as
            ``{"http.request": 200, "specific.*": 50}``; the first match wins.

    Attributes:
        dropped_on_full: Messages ``group_send`` dropped because a member was full; each
            drop is also logged (a WARNING at once, then one summary per
            ``drop_log.interval`` seconds, 10 by default) naming the channels.
        dropped_expired: Messages dropped because they expired before being received.
    """

    def __init__(
        self,
        *,
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[str, int] | None = None,
    ) -> None:
        if expiry <= 0 or group_expiry <= 0:
            raise ValueError(
                f"expiry and group_expiry must be positive, but got {expiry!r} and {group_expiry!r}"
            )
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, but got {capacity!r}")
        self.extensions = ["groups", "flush"]
        self.expiry = expiry
        self.group_expiry = group_expiry
        self.capacity = capacity
        self.channel_capacity = dict(channel_capacity or {})
        self._capacity_patterns = [
            (re.compile(translate(pattern)), size)
            for pattern, size in self.channel_capacity.items()
        ]
        self.dropped_on_full = 0
        self.dropped_expired = 0
        self.drop_log = DropLog(
            logger, capacity_hint=f"capacity {capacity}; see docs/channel-layers.md"
        )
        # One lock for all state: senders may run in other threads (async_to_sync), and
        # every critical section is short and never awaits.
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._groups: dict[str, dict[str, float]] = {}
        # Channels holding messages, by when their oldest message expires (roughly ordered):
        # lets abandoned channels be swept without scanning every channel.
        self._pending: dict[str, float] = {}
        self._next_sweep = 0.0
        # When each channel last had a receiver: renews its memberships (see group_send).
        self._receivers: dict[str, float] = {}
        self._next_receiver_sweep = 0.0
        self._prefix = secrets.token_hex(4)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> InMemoryChannelLayer:
        """Build a layer from ``memory://``, with options in the query string.

        Example: ``memory://?capacity=50&expiry=30&group_expiry=3600``. Keyword ``options``
        override the query string.
        """
        parts = urlsplit(url)
        if parts.scheme != "memory":
            raise ValueError(f"Expected a 'memory://' URL, but got {url!r}")
        parsed: dict[str, Any] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            convert = _URL_OPTIONS.get(key)
            if convert is None:
                raise ValueError(
                    f"Unknown option {key!r} in {url!r}; expected one of {sorted(_URL_OPTIONS)}"
                )
            try:
                parsed[key] = convert(value)
            except ValueError:
                raise ValueError(
                    f"Option {key!r} in {url!r} must be a number, but got {value!r}"
                ) from None
        return cls(**{**parsed, **options})

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(expiry={self.expiry!r}, group_expiry={self.group_expiry!r}, "
            f"capacity={self.capacity!r})"
        )

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` on ``channel``; raise `ChannelFull` at capacity."""
        if channel.__class__ is not str or channel not in self._channels:
            channel = require_valid_channel_name(
                channel
            )  # the names of existing channels were checked
        _require_message(message)
        now = monotonic()
        with self._lock:
            state = self._channels.get(channel) or self._create(channel)
            if not self._enqueue(channel, state, (now + self.expiry, message), now):
                raise ChannelFull(f"Channel {channel!r} holds {state.capacity} messages")
            if now >= self._next_sweep:
                self._sweep(now)

    def _enqueue(
        self,
        channel: str,
        state: _Channel,
        item: tuple[float, dict[str, Any]],
        now: float,
    ) -> bool:
        """Queue ``item`` and wake a receiver; False if the channel is full (under the lock)."""
        queue = state.queue
        if queue is None:
            self._pending[channel] = item[0]
            state.queue = deque((item,))
        else:
            if len(queue) >= state.capacity:
                self._drop_expired(channel, state, now)
                if len(queue) >= state.capacity:
                    return False
            if not queue:
                self._pending[channel] = item[0]
            queue.append(item)
        if state.waiters:
            self._wake(state, asyncio.get_running_loop())
        return True

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for the next message on ``channel``; a cancelled receive loses no message."""
        if channel.__class__ is not str or channel not in self._receivers:
            # A name received on before was checked then; a consumer's reader comes back
            # for every message, and the check (a regex) would cost more than the rest.
            channel = require_valid_channel_name(channel)
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                state = self._channels.get(channel)
                if state is not None and state.queue:
                    message = self._pop(channel, state, loop)
                    if message is not None:
                        self._receivers[channel] = monotonic()
                        return message
                    state = self._channels.get(channel)  # only expired messages were left
                if state is None:
                    state = self._create(channel)
                self._receivers[channel] = monotonic()
                waiter: asyncio.Future[None] = loop.create_future()
                state.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                with self._lock:
                    self._abandon(channel, state, waiter, loop)
                raise

    async def new_channel(self, prefix: str = "specific.") -> str:
        """Return a new, unique, process-specific channel name (``prefix...!...``)."""
        return require_valid_channel_name(f"{prefix}{self._prefix}!{secrets.token_hex(8)}")

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``, refreshing its membership expiry."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        now = monotonic()
        with self._lock:
            self._groups.setdefault(group, {})[channel] = now

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; a no-op when it is not a member."""
        group = require_valid_group_name(group)
        channel = require_valid_channel_name(channel)
        with self._lock:
            members = self._groups.get(group)
            if members is not None:
                members.pop(channel, None)
                if not members:
                    del self._groups[group]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to each member of ``group``; members at capacity are skipped."""
        if group.__class__ is not str or group not in self._groups:
            group = require_valid_group_name(group)  # the names of existing groups were checked
        _require_message(message)
        now = monotonic()
        with self._lock:
            members = self._groups.get(group)
            if not members:
                return
            joined_before = now - self.group_expiry
            item = (now + self.expiry, message)
            channels = self._channels
            stale: list[str] | None = None
            full: list[str] | None = None
            for channel, joined_at in members.items():
                state = channels.get(channel)
                if joined_at < joined_before:
                    # A channel someone receives on is alive: its membership is renewed.
                    if state is not None and state.waiters:
                        members[channel] = now
                    elif self._receivers.get(channel, joined_at) >= joined_before:
                        members[channel] = self._receivers[channel]
                    else:
                        stale = stale or []
                        stale.append(channel)
                        continue
                if state is None:
                    state = self._create(channel)
                if not self._enqueue(channel, state, item, now):
                    full = full or []
                    full.append(channel)
            if stale:
                for channel in stale:
                    del members[channel]
                if not members:
                    del self._groups[group]
            if full:
                self.dropped_on_full += len(full)
            if now >= self._next_sweep:
                self._sweep(now)
        if full:
            # Logged outside the lock: a slow or re-entrant log handler must not stall senders.
            self.drop_log.record(group, full)

    async def flush(self) -> None:
        """Drop every message and group; receivers already waiting keep waiting."""
        with self._lock:
            self._groups.clear()
            self._receivers.clear()
            self._pending.clear()
            for channel, state in list(self._channels.items()):
                state.queue = None
                if not state.waiters:
                    del self._channels[channel]

    async def close(self) -> None:
        """Do nothing: the layer holds no connection or background task."""

    # Everything below runs with self._lock held.

    def _create(self, channel: str) -> _Channel:
        capacity = self.capacity
        for pattern, size in self._capacity_patterns:
            if pattern.match(channel):
                capacity = size
                break
        state = self._channels[channel] = _Channel(capacity)
        return state

    def _pop(
        self, channel: str, state: _Channel, loop: asyncio.AbstractEventLoop
    ) -> dict[str, Any] | None:
        queue = state.queue
        now = monotonic()
        message: dict[str, Any] | None = None
        while queue:
            expires_at, candidate = queue.popleft()
            if expires_at > now:
                message = candidate
                break
            self.dropped_expired += 1
        if queue:
            if state.waiters:
                # Another receiver may be able to take the next message right away.
                self._wake(state, loop)
        else:
            state.queue = None
            self._pending.pop(channel, None)
            if not state.waiters:
                del self._channels[channel]
        return message

    def _wake(self, state: _Channel, loop: asyncio.AbstractEventLoop | None) -> None:
        waiters = state.waiters
        while waiters:
            waiter = waiters.pop(0)
            if waiter.done():
                continue
            waiter_loop = waiter.get_loop()
            if waiter_loop is loop:
                waiter.set_result(None)
                return
            try:
                waiter_loop.call_soon_threadsafe(_notify, waiter)
            except RuntimeError:  # its event loop is closed: that receiver is gone
                continue
            return

    def _abandon(
        self,
        channel: str,
        state: _Channel,
        waiter: asyncio.Future[None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        # A sender may already have taken this waiter off: its wake-up is passed on below.
        with contextlib.suppress(ValueError):
            state.waiters.remove(waiter)
        if state.queue:
            if state.waiters:
                self._wake(state, loop)
        elif not state.waiters and self._channels.get(channel) is state:
            del self._channels[channel]

    def _drop_expired(self, channel: str, state: _Channel, now: float) -> None:
        queue = state.queue
        while queue and queue[0][0] <= now:
            queue.popleft()
            self.dropped_expired += 1
        if not queue:
            self._pending.pop(channel, None)

    def _sweep(self, now: float) -> None:
        """Drop expired messages of channels nobody reads, oldest first, then stop."""
        self._next_sweep = now + min(self.expiry, 1.0)
        stale: list[str] = []
        for channel, expires_at in self._pending.items():
            if expires_at > now:
                break
            stale.append(channel)
        for channel in stale:
            state = self._channels.get(channel)
            if state is None:
                self._pending.pop(channel, None)
                continue
            self._drop_expired(channel, state, now)
            queue = state.queue
            if queue:
                # Re-queue it behind the others, keyed by its new oldest message.
                del self._pending[channel]
                self._pending[channel] = queue[0][0]
            elif not state.waiters:
                del self._channels[channel]
        if now >= self._next_receiver_sweep:
            self._sweep_receivers(now)

    def _sweep_receivers(self, now: float) -> None:
        """Forget receive times that renew nothing: too old, or of a channel in no group.

        A receive time only renews group memberships. Every connection leaves one, so
        waiting for ``group_expiry`` (a day by default) kept a name per connection that
        long; a channel that is in no group and holds nothing is forgotten within a
        minute (it records a new time when it receives again).
        """
        self._next_receiver_sweep = now + max(1.0, min(RECEIVER_SWEEP, self.group_expiry / 4))
        cutoff = now - self.group_expiry
        members = {channel for group in self._groups.values() for channel in group}
        channels = self._channels
        receivers = self._receivers
        for channel in [
            name
            for name, seen in receivers.items()
            if seen < cutoff or (name not in members and name not in channels)
        ]:
            del receivers[channel]
