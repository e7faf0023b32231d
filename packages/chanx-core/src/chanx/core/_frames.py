"""Client frames beside the serving loop: read ahead, or handled several at once.

`shared_gate` gives the size and rate checks each frame passes first (`screened`);
`FrameQueue` holds frames a socket reader task read ahead of the handler; `FrameTasks`
runs frames in tasks for ``max_concurrent_frames > 1``.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from chanx.core._limits import FrameGate
from chanx.core.types import Message

__all__ = ["REFUSED", "FrameQueue", "FrameTasks", "screened", "shared_gate", "surely_small"]

# A refused frame: what is queued (or handled) in place of the frame's data.
REFUSED = "chanx.refused"
_shared_gates: dict[tuple[int | None, bool, int], FrameGate | None] = {}


def shared_gate(
    max_bytes: int | None, close_oversized: bool, rate_limit: tuple[float, int] | None, after: int
) -> FrameGate | None:
    """The frame gate for these options (None: no check).

    One per connection with a rate limit (it counts), else one shared by every connection
    (it holds no state).
    """
    if rate_limit is not None:
        return FrameGate.for_options(
            max_bytes=max_bytes, close_oversized=close_oversized, rate_limit=rate_limit,
            close_after=after,
        )  # fmt: skip
    key = (max_bytes, close_oversized, after)
    if key not in _shared_gates:
        _shared_gates[key] = FrameGate.for_options(
            max_bytes=max_bytes, close_oversized=close_oversized, rate_limit=None,
            close_after=after,
        )  # fmt: skip
    return _shared_gates[key]


class FrameQueue:
    """Frames between the socket reader task and the serving loop.

    `put` waits while ``limit`` frames are queued, so reading pauses and the server's flow
    control slows the client down. Lighter than an `asyncio.Queue`: two futures at most,
    made only while someone waits.
    """

    __slots__ = ("_frames", "_limit", "_ready", "_room")

    def __init__(self, limit: int) -> None:
        self._frames: deque[Message] = deque()
        self._limit = max(1, limit)
        self._ready: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    async def put(self, message: Message) -> None:
        """Queue ``message``, waiting for room first."""
        while len(self._frames) >= self._limit:
            room = self._room = asyncio.get_running_loop().create_future()
            await room
            self._room = None
        self._frames.append(message)
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_result(None)

    async def get(self) -> Message:
        """The oldest queued frame, waiting for one."""
        frames = self._frames
        while not frames:
            ready = self._ready = asyncio.get_running_loop().create_future()
            await ready
            self._ready = None
        message = frames.popleft()
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        return message


class FrameTasks:
    """Frames handled in their own tasks, at most ``limit`` at once.

    A task that fails hands its exception to ``on_error`` (the connection then ends).
    """

    __slots__ = ("_limiter", "_on_error", "running")

    def __init__(self, limit: int, on_error: Callable[[BaseException], None]) -> None:
        self._limiter = asyncio.Semaphore(limit)
        self._on_error = on_error
        self.running: set[asyncio.Task[None]] = set()

    async def start(self, work: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        """Run ``work(*args)`` in a task once fewer than ``limit`` run."""
        await self._limiter.acquire()
        # The coroutine is made only now: made before a cancelled wait, it would never run.
        task = asyncio.get_running_loop().create_task(work(*args))
        self.running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self._limiter.release()
        if not task.cancelled() and (error := task.exception()) is not None:
            self._on_error(error)


def screened(gate: FrameGate, message: Message) -> Message:
    """``message``, or a refusal marker in its place (the frame's data is not kept)."""
    refusal = gate.check(message)
    return message if refusal is None else {"type": REFUSED, "refusal": refusal}


def surely_small(gate: FrameGate | None) -> int:
    """Length of a text frame below which ``gate`` surely lets it through (-1: none)."""
    if gate is None or gate.bucket is not None:
        return -1  # a rate limit looks at every frame
    if gate.max_bytes is None:
        return sys.maxsize
    return gate.max_bytes // 4  # a character is at most 4 bytes of UTF-8
