"""Loss reports for layer backends: one WARNING per incident, naming its cause and window.

A layer that may lose a message (a restart, an eviction, a full member skipped) must say
so (DESIGN: loss is never silent) without flooding the log when the cause repeats. The
Redis and RabbitMQ layers report through `LossReporter`; a third-party layer can too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["LossReporter"]

# A cause that repeats (one undecodable message after another) is one incident while its
# occurrences are less than this many seconds apart; the next occurrence after a quiet spell
# opens a new one. The count of an open incident is logged when it closes.
QUIET_SECONDS = 30.0


# Distinct subjects an incident remembers (a set of names): past this, "or more".
MAX_SUBJECTS = 10_000


@dataclass
class _Open:
    first: float
    last: float
    count: int
    detail: str
    subjects: set[str] = field(default_factory=set)

    def add(self, subject: str | None) -> None:
        if subject is not None and len(self.subjects) < MAX_SUBJECTS:
            self.subjects.add(subject)

    def spread(self) -> str:
        """How many names the incident touched, for its summary ("" when none were given)."""
        known = len(self.subjects)
        if known < 2:
            return ""
        more = " or more" if known >= MAX_SUBJECTS else ""
        return f", {known}{more} distinct names in all"


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S.%f")[:-3]


class LossReporter:
    """Logs loss incidents on ``logger``: one WARNING each, repeats counted quietly.

    Args:
        logger: The layer's logger (``chanx.redis``, ``chanx.rabbitmq``, yours).
        on_incident: Called with ``(cause, start, end, count, detail)`` for every incident
            logged (``start``/``end`` are Unix times), e.g. to keep the latest in the
            layer's stats.
    """

    def __init__(
        self,
        logger: logging.Logger,
        on_incident: Callable[[str, float, float, int, str], object] | None = None,
    ) -> None:
        self.logger = logger
        self.on_incident = on_incident
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
        if self.on_incident is not None:
            self.on_incident(cause, start, end, count, detail)
        self.logger.log(
            level,
            "%s: %s (window %s-%s UTC, %.1f s)",
            cause,
            detail,
            _clock(start),
            _clock(end),
            end - start,
        )

    def occurrence(
        self, cause: str, sent_at: float, detail: str, *, subject: str | None = None
    ) -> None:
        """One more message lost to ``cause``; the first of an incident is logged at once.

        ``subject`` names what lost it (a channel, a group): the incident's summary says how
        many distinct ones there were, where its first line can name only one.
        """
        now = time.time()
        record = self._open.get(cause)
        if record is not None and now - record.last < QUIET_SECONDS:
            record.last = now
            record.count += 1
            record.add(subject)
            return
        self.close(cause)
        self.incident(
            cause, min(sent_at, now), now, 1, f"{detail}; more of these are counted quietly"
        )
        record = self._open[cause] = _Open(now, now, 0, detail)
        record.add(subject)

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
                    name,
                    record.first,
                    record.last,
                    record.count,
                    f"{record.count} more after the first line{record.spread()}, which "
                    f"said: {record.detail}",
                )
