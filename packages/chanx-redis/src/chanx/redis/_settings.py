"""What the Redis layer's readers share: settings, decoding, and recovery after an outage."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError

from chanx.core.layers import LossReporter
from chanx.redis._connection import BLOCK_SECONDS, Shard
from chanx.redis._scripts import split_entry
from chanx.redis._serializer import Serializer
from chanx.redis._stats import RedisLayerStats

__all__ = ["BLOCK_SECONDS", "Item", "Settings", "recover"]

logger = logging.getLogger("chanx.redis")

# (stamp in ms, message, counted: whether the capacity counts in Redis include it)
Item = tuple[int, dict[str, Any], bool]


class Settings:
    """What the readers need from the layer."""

    def __init__(
        self,
        *,
        expiry: float,
        capacity_for: Callable[[str], int],
        serializer: Serializer,
        stats: RedisLayerStats,
        reporter: LossReporter,
        on_recovered: Callable[[Shard], Awaitable[None]],
    ) -> None:
        self.expiry_ms = int(expiry * 1000)
        self.capacity_for = capacity_for
        self.serializer = serializer
        self.stats = stats
        self.reporter = reporter
        self.on_recovered = on_recovered
        # A batch lost with a broken connection was sent at most this long before the
        # break was seen (a read waits BLOCK_SECONDS, a reply up to a command timeout).
        self.command_grace = float(BLOCK_SECONDS)
        # Messages an inbox had taken in but not handed out when its event loop's state
        # closed, by inbox and channel: the next loop to read that inbox starts with them.
        # (Django's async_to_sync runs each call in a loop of its own.)
        self._parked: dict[str, dict[str, list[Item]]] = {}
        self._parked_lock = threading.Lock()

    def park(self, inbox: str, suffix: str, items: list[Item]) -> None:
        with self._parked_lock:
            self._parked.setdefault(inbox, {}).setdefault(suffix, []).extend(items)

    def unpark(self, inbox: str) -> dict[str, list[Item]]:
        with self._parked_lock:
            return self._parked.pop(inbox, {})

    def drop_parked(self) -> None:
        with self._parked_lock:
            self._parked.clear()

    def expired(self, stamp_ms: int) -> bool:
        return time.time() * 1000 - stamp_ms > self.expiry_ms

    def decode(self, entry: bytes, where: str) -> tuple[int, list[str], Any, bool] | None:
        """Split and decode a stored entry; None (counted and reported) when unreadable.

        One bad message (another serializer, a foreign writer) must not stop a reader.
        """
        try:
            stamp, names, payload, grouped = split_entry(entry)
        except ValueError as error:
            self._undecodable(0, where, error)
            return None
        try:
            return stamp, names, self.serializer.loads(payload), grouped
        except Exception as error:  # any serializer's own error type
            self._undecodable(stamp, where, error, len(names) or 1)
            return None

    def dropped(self, channel: str, stamp_ms: int) -> None:
        """A group message skipped for a full channel: counted and reported."""
        self.stats.group_drops += 1
        self.reporter.occurrence(
            "group_drop",
            stamp_ms / 1000,
            f"channel {channel!r} was full: a group message was dropped for it (its reader "
            "is slower than the messages come)",
            subject=channel,
        )

    def outlived(self, channel: str, stamp_ms: int, count: int = 1) -> None:
        """A message that reached a receiver after its expiry: counted and reported."""
        self.stats.expired += count
        self.reporter.occurrence(
            "expired",
            stamp_ms / 1000,
            f"a message for {channel!r} was older than expiry ({self.expiry_ms} ms) when it "
            "reached its receiver and was dropped",
            subject=channel,
        )

    def _undecodable(self, stamp_ms: int, where: str, error: Exception, count: int = 1) -> None:
        self.stats.undecodable += count
        name = getattr(self.serializer, "name", type(self.serializer).__name__)
        self.reporter.occurrence(
            "undecodable",
            stamp_ms / 1000 if stamp_ms else time.time(),
            f"a message for {where} could not be decoded with the {name!r} serializer and "
            f"was skipped ({error!r}); do all processes use the same serializer setting?",
        )


async def recover(
    shard: Shard,
    settings: Settings,
    what: str,
    error: BaseException,
    stopped: Callable[[], bool],
) -> None:
    """Wait with backoff until ``shard`` answers again, logging what may have been lost."""
    stats = settings.stats
    stats.disconnects += 1
    stats.possible_loss += 1
    lost_at = time.time()
    logger.warning(
        "Redis connection lost while reading %s (%r): a batch in flight may be lost; reconnecting",
        what,
        error,
    )
    delay = 0.05
    while not stopped():
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 2.0)
        try:
            await shard.execute("PING")
        except (RedisError, OSError):
            continue
        await settings.on_recovered(shard)
        stats.reconnects += 1
        # The WARNING went out when the connection broke; this records its window.
        settings.reporter.incident(
            "connection_lost",
            lost_at - settings.command_grace,
            time.time(),
            0,
            f"reading {what} again; a batch in flight when the connection broke may be lost",
            level=logging.INFO,
        )
        return
