"""`Mailbox`: a channel's local FIFO with its waiting receivers, for layer backends."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Generic, TypeVar

__all__ = ["Mailbox"]

_Item = TypeVar("_Item")


class Mailbox(Generic[_Item]):
    """Items waiting for ``receive`` on one channel, and the receivers waiting for them.

    An item stays in ``items`` until a receiver takes it, so a receiver cancelled while
    waiting, even right after it was woken, loses nothing: it passes its wake-up on.
    Lighter than an `asyncio.Queue` (a future exists only while someone waits), since a
    layer makes and drops mailboxes around the receives of a busy channel. Unbounded:
    the layer enforces its own capacity before `put`.
    """

    __slots__ = ("_waiters", "items", "waiting")

    def __init__(self) -> None:
        self.items: deque[_Item] = deque()
        self._waiters: deque[asyncio.Future[None]] = deque()
        #: Receivers inside `wait` (or `get`) right now.
        self.waiting = 0

    def __len__(self) -> int:
        return len(self.items)

    def put(self, item: _Item) -> None:
        """Append ``item`` and wake one waiting receiver."""
        self.items.append(item)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def wait(self) -> None:
        """Wait until an item was put (it may be gone again: check ``items``)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.waiting += 1
        try:
            await waiter
        except BaseException:
            woken = waiter.done() and not waiter.cancelled()
            waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            if woken and self.items:
                self._wake_one()  # woken and cancelled at once: the next receiver gets it
            raise
        finally:
            self.waiting -= 1

    async def get(self) -> _Item:
        """Take the oldest item, waiting for one."""
        while not self.items:
            await self.wait()
        return self.items.popleft()

    def take_all(self) -> list[_Item]:
        """Remove and return every queued item."""
        items = list(self.items)
        self.items.clear()
        return items

    def idle(self) -> bool:
        """Nobody waits and nothing is queued: the mailbox can be dropped."""
        return self.waiting == 0 and not self.items
