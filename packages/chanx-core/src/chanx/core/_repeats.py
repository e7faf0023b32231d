"""One WARNING per burst of the same failure: a Redis outage fails every socket's cleanup."""

from __future__ import annotations

import logging
import time

__all__ = ["RepeatedWarning"]


class RepeatedWarning:
    """Logs the first failure of a burst at once and counts the rest of it.

    A burst ends after ``quiet`` seconds without a failure; the first failure after it logs
    again, with how many the previous burst counted after its first line.
    """

    def __init__(self, logger: logging.Logger, quiet: float = 10.0) -> None:
        self.logger = logger
        self.quiet = quiet
        self.repeats = 0
        self._last = float("-inf")

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self.quiet:
            self._last = now
            self.repeats += 1
            return
        self._last = now
        if self.repeats:
            message += " (the previous burst had %d more after its first line)"
            args = (*args, self.repeats)
            self.repeats = 0
        self.logger.warning(message + "; more in the next %g s are counted", *args, self.quiet)
