"""A channel's local buffer: FIFO, bounded by the caller, cancellation-safe for receivers."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel

__all__ = ["Ack", "Box", "Entry"]

# What to acknowledge when a plain channel's message is handed to a receiver.
Ack = tuple["AbstractChannel", int]
# (deadline in wall-clock seconds, message, what to acknowledge on hand-over or None)
Entry = tuple[float, dict[str, Any], Ack | None]


class Box:
    """Messages waiting for ``receive`` on one channel, and the receivers waiting for them.

    A message stays in ``items`` until a receiver takes it, so a receiver cancelled while
    waiting (even right after being woken) loses nothing: it passes its wake-up on.
    """

    __slots__ = ("items", "pending", "waiters")

    def __init__(self) -> None:
        self.items: deque[Entry] = deque()
        self.waiters: deque[asyncio.Future[None]] = deque()
        # Messages this process published to the channel that have not come back yet.
        self.pending = 0

    def __len__(self) -> int:
        return len(self.items)

    def put(self, entry: Entry) -> None:
        self.items.append(entry)
        self._wake()

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def drop_expired(self, on_expired: Callable[[Entry], None]) -> None:
        now = time.time()
        while self.items and self.items[0][0] < now:
            on_expired(self.items.popleft())

    async def get(self, on_expired: Callable[[Entry], None]) -> Entry:
        while True:
            self.drop_expired(on_expired)
            if self.items:
                return self.items.popleft()
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: let another receiver have it
                raise
            finally:
                if waiter in self.waiters:
                    self.waiters.remove(waiter)

    def clear(self) -> list[Entry]:
        dropped = list(self.items)
        self.items.clear()
        self.pending = 0
        return dropped

    @property
    def idle(self) -> bool:
        return not self.items and not self.waiters and not self.pending
