"""A channel's local buffer: FIFO, bounded by the caller, cancellation-safe for receivers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chanx.core.layers import Mailbox

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel

__all__ = ["Ack", "Box", "Entry"]

# What to acknowledge when a plain channel's message is handed to a receiver.
Ack = tuple["AbstractChannel", int]
# (deadline in wall-clock seconds, message, what to acknowledge on hand-over or None)
Entry = tuple[float, dict[str, Any], Ack | None]


class Box(Mailbox[Entry]):
    """A channel's `Mailbox` whose entries expire: expired ones are dropped, not received."""

    __slots__ = ()

    def drop_expired(self, on_expired: Callable[[Entry], None]) -> None:
        now = time.time()
        while self.items and self.items[0][0] < now:
            on_expired(self.items.popleft())

    async def get_live(self, on_expired: Callable[[Entry], None]) -> Entry:
        """The oldest entry not expired, waiting for one (``on_expired`` gets the others)."""
        while True:
            self.drop_expired(on_expired)
            if self.items:
                return self.items.popleft()
            await self.wait()
