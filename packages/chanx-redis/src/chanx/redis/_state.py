"""Per-event-loop state of the Redis layer: clients, inboxes and pullers.

redis.asyncio connections belong to the loop that opened them, and Django's
``async_to_sync`` runs each call in a fresh loop, so every loop gets its own state. A loop
other than the one that closes the layer cleans its state up when it is closed.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from chanx.redis._connection import HashRing, HostSpec, Shard
from chanx.redis._inbox import Inbox, Puller
from chanx.redis._scripts import channel_key, counts_key, inbox_key
from chanx.redis._settings import Settings

__all__ = ["LoopState"]

logger = logging.getLogger("chanx.redis")


class LoopState:
    """Everything the layer holds for one running event loop."""

    def __init__(
        self,
        specs: list[HostSpec],
        ring: HashRing,
        *,
        prefix: str,
        pool_size: int,
        pool_timeout: float,
        settings: Settings,
    ) -> None:
        self.shards = [
            Shard(spec, pool_size=pool_size, pool_timeout=pool_timeout) for spec in specs
        ]
        self.ring = ring
        self.prefix = prefix
        self.settings = settings
        self.inboxes: dict[str, Inbox] = {}
        self.pullers: dict[str, Puller] = {}
        # Tasks of the layer's own (the keeper) that end with this state.
        self.background: list[asyncio.Task[None]] = []
        self.closed = False

    def shard_for(self, name: str) -> Shard:
        return self.shards[self.ring.index(name)]

    def inbox(self, name: str) -> Inbox:
        inbox = self.inboxes.get(name)
        if inbox is None:
            inbox = self.inboxes[name] = Inbox(
                name,
                self.shard_for(name),
                inbox_key(self.prefix, name),
                counts_key(self.prefix, name),
                self.settings,
            )
        return inbox

    def puller(self, channel: str) -> Puller:
        puller = self.pullers.get(channel)
        if puller is None:
            puller = self.pullers[channel] = Puller(
                channel, self.shard_for(channel), channel_key(self.prefix, channel), self.settings
            )
        return puller

    def clear_local(self) -> None:
        self.settings.drop_parked()
        for inbox in self.inboxes.values():
            inbox.clear()
        for puller in self.pullers.values():
            puller.box.items.clear()

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await asyncio.gather(*(inbox.aclose() for inbox in self.inboxes.values()))
        for channel, puller in self.pullers.items():
            leftovers = await puller.aclose()
            if leftovers:
                await self._give_back(channel, leftovers)
        self.inboxes.clear()
        self.pullers.clear()
        for shard in self.shards:
            await shard.aclose()

    async def _give_back(self, channel: str, entries: list[bytes]) -> None:
        """Return popped-but-unreceived messages to the head of their list for other receivers."""
        try:
            async with asyncio.timeout(2):
                await self.shard_for(channel).execute(
                    "LPUSH", channel_key(self.prefix, channel), *reversed(entries)
                )
        except (RedisError, OSError, TimeoutError):
            self.settings.stats.possible_loss += 1
            logger.warning(
                "could not return %d unreceived message(s) of channel %r to Redis on close",
                len(entries),
                channel,
            )
