"""Capacity accounting for one inbox: how many messages each local channel holds.

Senders in other processes check a Redis hash of per-channel counts before they push (in the
same Lua call). Local work moves those counts: a receive releases one, a send delivered
in-process takes one. Those changes are batched into one script call per flush, and a send
followed by its receive before the flush costs no call at all. Flushes run one at a time, in
order, so a count never goes below zero by reordering; the layer settles the ledger before
an operation that reads the counts of its own inbox, which keeps capacity exact in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from chanx.redis._connection import Shard
from chanx.redis._scripts import ADJUST

__all__ = ["Ledger"]

logger = logging.getLogger("chanx.redis")

# How long changes may wait to be batched. Other processes may see a channel as up to this
# much fuller than it is; this process never does, because it settles first.
FLUSH_DELAY = 0.02
FLUSH_AT = 256


class Ledger:
    def __init__(self, shard: Shard, key: str, expiry_ms: int) -> None:
        self.shard = shard
        self.key = key
        self.expiry_ms = expiry_ms
        self._deltas: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._now = asyncio.Event()

    def change(self, suffix: str, delta: int) -> None:
        total = self._deltas.get(suffix, 0) + delta
        if total:
            self._deltas[suffix] = total
        else:
            self._deltas.pop(suffix, None)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())
        elif len(self._deltas) >= FLUSH_AT:
            self._now.set()

    async def settle(self) -> None:
        while self._task is not None:
            self._now.set()
            await asyncio.shield(self._task)

    async def _flush(self) -> None:
        try:
            try:
                async with asyncio.timeout(FLUSH_DELAY):
                    await self._now.wait()
            except TimeoutError:
                pass
            while self._deltas:
                deltas, self._deltas = self._deltas, {}
                args = [value for pair in deltas.items() for value in pair]
                try:
                    await self.shard.run_script(ADJUST, [self.key], [self.expiry_ms, *args])
                except (RedisError, OSError):
                    # The counts live as long as the inbox; after an outage they are gone or
                    # stale anyway, and they expire with it.
                    logger.debug("could not update the capacity counts of %r", self.key)
                    return
        finally:
            self._task = None
            self._now.clear()

    def clear(self) -> None:
        self._deltas.clear()

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await self.settle()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
