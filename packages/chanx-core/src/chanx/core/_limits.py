"""Protection against hostile or broken clients.

Origins, rates, sizes, connection counts and stalled readers: every check is off or cheap
unless a consumer option enables it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import math
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from chanx.core._errors import ErrorCode
from chanx.core.types import Message

__all__ = [
    "ConnectionCounter",
    "FrameGate",
    "Refusal",
    "SendProgress",
    "SendWatchdog",
    "TokenBucket",
    "origin_allowed",
    "same_origin",
    "text_size_exceeds",
]

logger = logging.getLogger("chanx.consumer")

# Close codes (RFC 6455 and the 4xxx range Chanx uses).
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class TokenBucket:
    """``rate`` frames per second on average, with bursts of up to ``burst`` frames."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate limit needs rate > 0 and burst >= 1, but got {(rate, burst)!r}")
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def origin_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    """Whether a handshake's ``Origin`` header passes the allow-list.

    Entries are exact origins (``https://chat.example.com``), glob patterns
    (``https://*.example.com``) or ``*``. A request without an Origin header is not from
    a browser, where Origin checks mean something, and passes; authenticate such clients.
    """
    if origin is None:
        return True
    origin = origin.lower().rstrip("/")
    for entry in allowed:
        entry = entry.lower().rstrip("/")
        if entry == "*" or entry == origin or ("*" in entry and fnmatch.fnmatchcase(origin, entry)):
            return True
    return False


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` names the host (and port) the handshake's ``Host`` header names.

    The scheme is not compared: behind a TLS-terminating proxy the page is ``https`` while
    the server sees plain ``ws``. ``Origin: null`` (sandboxed frames, ``file://``) is never
    same-origin.
    """
    if not host:
        return False
    try:
        page = urlsplit(origin.strip())
        served = urlsplit("//" + host.strip())
        page_port = page.port or _DEFAULT_PORTS.get(page.scheme.lower())
        served_port = served.port or _DEFAULT_PORTS.get(page.scheme.lower())
    except ValueError:  # a malformed port
        return False
    if not page.hostname or page_port is None:
        return False
    return page.hostname == served.hostname and page_port == served_port


def text_size_exceeds(data: str | bytes, limit: int) -> bool:
    """Whether ``data`` is over ``limit`` bytes (UTF-8), encoding only when it might be."""
    if isinstance(data, bytes):
        return len(data) > limit
    if len(data) * 4 <= limit:  # a character is at most 4 bytes: surely small enough
        return False
    return len(data) > limit or len(data.encode("utf-8", "surrogatepass")) > limit


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a frame was not let through, and whether the connection must close."""

    error_code: str
    detail: str
    close_code: int | None = None


class FrameGate:
    """Size and rate checks on each client frame, before it is queued for a handler."""

    __slots__ = ("bucket", "close_after", "close_oversized", "limited", "max_bytes")

    def __init__(
        self,
        *,
        max_bytes: int | None,
        close_oversized: bool,
        bucket: TokenBucket | None,
        close_after: int,
    ) -> None:
        self.max_bytes = max_bytes
        self.close_oversized = close_oversized
        self.bucket = bucket
        self.close_after = close_after
        self.limited = 0

    @classmethod
    def for_options(
        cls,
        *,
        max_bytes: int | None,
        close_oversized: bool,
        rate_limit: tuple[float, int] | None,
        close_after: int,
    ) -> FrameGate | None:
        """A gate for these consumer options, or None when every check is off."""
        if max_bytes is None and rate_limit is None:
            return None
        bucket = TokenBucket(*rate_limit) if rate_limit is not None else None
        return cls(
            max_bytes=max_bytes,
            close_oversized=close_oversized,
            bucket=bucket,
            close_after=close_after,
        )

    def check(self, message: Message) -> Refusal | None:
        """None to let the frame through, else the refusal."""
        if self.max_bytes is not None:
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if text_size_exceeds(data, self.max_bytes):
                detail = f"frame is larger than {self.max_bytes} bytes"
                close = MESSAGE_TOO_BIG if self.close_oversized else None
                return Refusal(ErrorCode.FRAME_TOO_LARGE, detail, close)
        if self.bucket is not None:
            if self.bucket.take():
                self.limited = 0
            else:
                self.limited += 1
                if self.limited >= self.close_after:
                    return Refusal(ErrorCode.RATE_LIMITED, "rate limit exceeded", POLICY_VIOLATION)
                return Refusal(ErrorCode.RATE_LIMITED, "too many frames; slow down")
        return None


class ConnectionCounter:
    """Open connections per owner (a consumer class, or a class and a key), in this process."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def try_acquire(self, owner: Hashable, limit: int | None) -> bool:
        """Count one more connection of ``owner`` unless ``limit`` is reached."""
        count = self._counts.get(owner, 0)
        if limit is not None and count >= limit:
            return False
        self._counts[owner] = count + 1
        return True

    def release(self, owner: Hashable) -> None:
        """Count one connection of ``owner`` less (owners at zero are forgotten)."""
        count = self._counts.get(owner, 1) - 1
        if count > 0:
            self._counts[owner] = count
        else:
            self._counts.pop(owner, None)

    def count(self, owner: Hashable) -> int:
        """Open connections of ``owner``."""
        return self._counts.get(owner, 0)


class SendProgress(Protocol):
    """What a watchdog reads: sends begun and sends finished on one connection."""

    sends_begun: int
    sends_done: int


class SendWatchdog:
    """Notices a client that stopped reading: a send blocked for longer than ``limit`` s.

    Servers apply back-pressure (a send waits while the client's TCP window is full), so
    a stalled reader shows up as a send that does not return. The connection counts its
    sends (`SendProgress`); one sweeper task per event loop compares the counts every
    quarter of the limit, so a send costs two increments, not a wrapper coroutine (which
    measured 0.4 to 0.9 µs per frame; docs/performance.md).
    """

    __slots__ = ("blocked_since", "done_then", "limit", "on_stall", "progress")

    def __init__(self, limit: float) -> None:
        if limit <= 0:
            raise ValueError(f"slow_client_timeout must be positive, but got {limit!r}")
        self.limit = limit
        self.on_stall: Callable[[], None] | None = None
        self.progress: SendProgress | None = None
        #: When a sweep first saw a send in flight with no send finished since (or None).
        self.blocked_since: float | None = None
        self.done_then = 0

    def arm(self, progress: SendProgress, on_stall: Callable[[], None]) -> None:
        """Call ``on_stall`` (once) when ``progress`` shows a send blocked ``limit`` s."""
        self.progress = progress
        self.on_stall = on_stall
        loop = asyncio.get_running_loop()
        sweeper = _sweepers.get(loop)
        if sweeper is None:
            sweeper = _sweepers[loop] = _Sweeper(loop)
        sweeper.add(self)

    def disarm(self) -> None:
        """Stop watching (the connection is ending)."""
        self.on_stall = None
        for sweeper in _sweepers.values():
            sweeper.discard(self)

    def stalled(self, now: float) -> bool:
        """Note this sweep's view of the sends; True once one has been blocked ``limit`` s.

        A send is seen blocked from the first sweep after it began, so a stall is judged
        at most one sweep late, never early.
        """
        progress = self.progress
        if progress is None or progress.sends_begun == progress.sends_done:
            self.blocked_since = None
            return False
        if self.blocked_since is None or progress.sends_done != self.done_then:
            self.blocked_since, self.done_then = now, progress.sends_done  # progress made
            return False
        return now - self.blocked_since >= self.limit


class _Sweeper:
    """Checks the armed watchdogs of one event loop every quarter of the shortest limit."""

    __slots__ = ("__weakref__", "loop", "task", "tick", "watched")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.watched: set[SendWatchdog] = set()
        self.task: asyncio.Task[None] | None = None
        self.tick = math.inf

    def add(self, watchdog: SendWatchdog) -> None:
        self.watched.add(watchdog)
        self.tick = min(self.tick, watchdog.limit / 4)
        if self.task is None:
            self.task = self.loop.create_task(self.run())

    def discard(self, watchdog: SendWatchdog) -> None:
        self.watched.discard(watchdog)
        if not self.watched:
            # nothing to watch: no task lingers (an idle process, a test's event loop)
            self.tick = math.inf
            if self.task is not None:
                self.task.cancel()
                self.task = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            stalled = [watchdog for watchdog in self.watched if watchdog.stalled(now)]
            for watchdog in stalled:
                on_stall = watchdog.on_stall
                watchdog.on_stall = None
                self.watched.discard(watchdog)
                if on_stall is not None:
                    try:
                        on_stall()
                    except Exception:
                        logger.exception("dropping a stalled client failed")


_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweeper] = (
    weakref.WeakKeyDictionary()
)
