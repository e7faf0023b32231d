"""Rate-limited WARNINGs for messages a layer dropped, so that loss is never silent."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from time import monotonic

__all__ = ["DropLog"]

_NAMED = 5  # channels named in one line; the rest are counted


class DropLog:
    """Logs drops for full channels: the first at once, then one summary per ``interval``.

    A burst of thousands of drops thus costs two log lines, each naming the channels and
    how many messages each lost. Thread-safe: senders may run on several event loops.
    """

    def __init__(
        self, logger: logging.Logger, *, capacity_hint: str, interval: float = 10.0
    ) -> None:
        self.logger = logger
        self.capacity_hint = capacity_hint
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()
        self._groups: set[str] = set()
        self._quiet_until = 0.0  # before this, drops are summed instead of logged at once
        self._timer: asyncio.TimerHandle | None = None

    def record(self, group: str, channels: list[str]) -> None:
        """Note that ``group_send`` to ``group`` dropped its message for ``channels``."""
        now = monotonic()
        with self._lock:
            if now >= self._quiet_until and not self._pending:
                self._quiet_until = now + self.interval
                first = True
            else:
                first = False
                self._pending.update(channels)
                self._groups.add(group)
                overdue = now >= self._quiet_until  # its timer's loop may be gone
                if self._timer is None and not overdue:
                    loop = asyncio.get_running_loop()
                    self._timer = loop.call_later(self._quiet_until - now, self.flush)
        if first:
            self.logger.warning(
                "group_send to %r dropped the message for %d full channel(s): %s (%s); "
                "further drops are summed every %g s",
                group,
                len(channels),
                _names(Counter(channels)),
                self.capacity_hint,
                self.interval,
            )
        elif overdue:
            self.flush()

    def flush(self) -> None:
        """Log the drops summed since the last line, if any."""
        with self._lock:
            pending, groups = self._pending, self._groups
            self._pending, self._groups = Counter(), set()
            self._timer = None
            if pending:
                self._quiet_until = monotonic() + self.interval
        if pending:
            self.logger.warning(
                "group_send dropped %d more message(s) for full channels in groups %s: %s (%s)",
                sum(pending.values()),
                ", ".join(repr(g) for g in sorted(groups)[:_NAMED]),
                _names(pending),
                self.capacity_hint,
            )


def _names(counts: Counter[str]) -> str:
    named = ", ".join(f"{channel!r} ({count})" for channel, count in counts.most_common(_NAMED))
    rest = len(counts) - _NAMED
    return f"{named} and {rest} more" if rest > 0 else named
