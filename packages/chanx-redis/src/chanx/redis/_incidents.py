"""Loss reports: one WARNING per incident, naming its cause and the window it covers."""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["LossIncident", "Reporter"]

logger = logging.getLogger("chanx.redis")

# A cause that repeats (one undecodable message after another) is one incident while its
# occurrences are less than this many seconds apart; the next occurrence after a quiet spell
# opens a new one. The count of an open incident is logged when it closes.
QUIET_SECONDS = 30.0
KEPT_INCIDENTS = 100


@dataclass(frozen=True)
class LossIncident:
    """Messages may have been lost between ``start`` and ``end`` (Unix times) for ``cause``.

    Attributes:
        cause: what happened: ``"redis_restart"``, ``"eviction"``, ``"memberships_lost"``,
            ``"connection_lost"``, ``"undecodable"``, ``"group_drop"`` (a full member
            skipped) or ``"expired"`` (a message older than ``expiry`` on arrival).
        start: the earliest moment a lost message may have been sent.
        end: the moment the layer had healed (or the last occurrence).
        count: how many messages, keys or memberships it concerned (0: unknown).
        detail: the log line's explanation.
    """

    cause: str
    start: float
    end: float
    count: int
    detail: str


@dataclass
class _Open:
    first: float
    last: float
    count: int
    detail: str


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S.%f")[:-3]


class Reporter:
    """Logs incidents and keeps the latest ones (``RedisLayerStats.incidents``)."""

    def __init__(self, incidents: deque[LossIncident]) -> None:
        self.incidents = incidents
        # occurrences of a repeating cause after its first, logged line
        self._open: dict[str, _Open] = {}

    def incident(
        self,
        cause: str,
        start: float,
        end: float,
        count: int,
        detail: str,
        *,
        level: int = logging.WARNING,
    ) -> None:
        """Log one incident whose window is known now (its WARNING may have come earlier)."""
        found = LossIncident(cause, start, end, count, detail)
        self.incidents.append(found)
        logger.log(
            level,
            "%s: %s (window %s-%s UTC, %.1f s)",
            cause,
            detail,
            _clock(start),
            _clock(end),
            end - start,
        )

    def occurrence(self, cause: str, sent_at: float, detail: str) -> None:
        """One more message lost to ``cause``; the first of an incident is logged at once."""
        now = time.time()
        record = self._open.get(cause)
        if record is not None and now - record.last < QUIET_SECONDS:
            record.last = now
            record.count += 1
            return
        self.close(cause)
        self.incident(
            cause, min(sent_at, now), now, 1, f"{detail}; more of these are counted quietly"
        )
        self._open[cause] = _Open(now, now, 0, detail)

    def close(self, cause: str | None = None, *, quiet_only: bool = False) -> None:
        """Log what open incidents (all, or ``cause``'s) counted since their first line."""
        now = time.time()
        for name in [cause] if cause is not None else list(self._open):
            record = self._open.get(name)
            if record is None:
                continue
            if quiet_only and now - record.last < QUIET_SECONDS:
                continue
            del self._open[name]
            if record.count:
                self.incident(
                    name, record.first, record.last, record.count, f"more: {record.detail}"
                )
