"""How one accepted connection is served: client frames, layer events, and the stop.

The consumer's own task (the one the server started) reads the socket and handles each
frame inline, so a handler that never waits costs no task switch, no queue and no extra
task. The first time a handler really suspends, a socket reader task is started and kept
for the rest of the connection: from then on it reads the socket (so a disconnect is seen,
and cancels the handler, while the handler waits) and queues frames, which the consumer's
task handles in order. A layer reader task runs when the consumer has a layer.

These are plain asyncio tasks rather than an anyio task group and memory stream: per idle
connection they cost a fraction of the memory, and per frame they add no checkpoint (see
docs/performance.md for the figures). The channel layers are asyncio-only already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import anyio

from chanx.core._errors import encode_error
from chanx.core._limits import FrameGate, Refusal, SendWatchdog
from chanx.core.layers import ChannelLayer
from chanx.core.types import Message, Receive

__all__ = ["ConnectionLoop"]

logger = logging.getLogger("chanx.consumer")

_shared_gates: dict[tuple[int | None, bool], FrameGate | None] = {}
# A refused frame, queued by the socket reader in place of the frame itself.
REFUSED = "chanx.refused"


class ConnectionLoop:
    """The serving half of a consumer: reads, queues and stops (a consumer mixin)."""

    max_concurrent_frames: ClassVar[int] = 1
    max_pending_frames: ClassVar[int] = 64
    max_frame_bytes: ClassVar[int | None] = 1024 * 1024
    oversized_frames: ClassVar[Literal["close", "error"]] = "close"
    rate_limit: ClassVar[tuple[float, int] | None] = None
    rate_limit_close_after: ClassVar[int] = 20
    max_outbound_events: ClassVar[int | None] = None

    #: Layer pushes dropped by the ``max_outbound_events`` policy on this connection.
    dropped_events: int = 0

    channel_layer: ChannelLayer | None
    channel_name: str | None
    _receive: Receive
    _end_code: int
    _closed: bool
    _watchdog: SendWatchdog | None

    # Per-connection state lives on the instance only once it is needed: an idle
    # connection that never had a suspended handler carries none of it.
    _main: asyncio.Task[Any] | None = None
    _stopping: bool = False
    _cancelled_main: bool = False
    _failure: BaseException | None = None
    _in_handler: bool = False
    _probe_armed: bool = False
    _gate: FrameGate | None = None
    _socket_task: asyncio.Task[None] | None = None
    _layer_task: asyncio.Task[None] | None = None
    _frames: deque[Message] | None = None
    _frame_waiter: asyncio.Future[None] | None = None
    _room_waiter: asyncio.Future[None] | None = None

    if TYPE_CHECKING:  # provided by the consumer

        async def _on_frame(self, data: str | bytes | None, binary: bool) -> None: ...

        async def _on_event(self, event: Mapping[str, Any]) -> None: ...

        async def _send_text(self, text: str) -> None: ...

        async def _complete(self, ref: str | int | None) -> None: ...

        async def _try_close(self, code: int, reason: str | None) -> None: ...

        def _drop_stalled_client(self) -> None: ...

    # -- the serving loop --------------------------------------------------------------

    async def _serve(self) -> None:
        main = self._main = asyncio.current_task()
        assert main is not None
        loop = main.get_loop()
        self._gate = self._frame_gate()
        if self.channel_layer is not None and self.channel_name is not None:
            reader = self._read_events(self.channel_layer, self.channel_name)
            self._layer_task = loop.create_task(reader)
        if self._watchdog is not None:
            self._watchdog.arm(self._drop_stalled_client)
        delivered = False
        try:
            if self.max_concurrent_frames > 1:
                self._start_socket_reader(loop)
                await self._handle_concurrently()
                return
            # Frames in order, inline: this loop lives here rather than in a helper
            # coroutine because every frame of an idle connection's stack costs memory.
            receive = self._receive
            gate = self._gate
            surely_small = self._surely_small(gate)
            while not self._stopping:
                if self._frames is None:
                    message = await receive()
                    if message["type"] != "websocket.receive":
                        self._on_other_event(message)
                        continue
                    text = message.get("text")
                    if gate is not None and (text is None or len(text) > surely_small):
                        refusal = gate.check(message)
                        if refusal is not None:
                            await self._refuse(refusal)
                            continue
                    if not self._probe_armed:
                        # Runs once this task yields to the loop: if that happens inside
                        # a handler, the handler is suspended and the socket needs a reader.
                        self._probe_armed = True
                        loop.call_soon(self._probe_suspension)
                else:
                    message = await self._next_frame()
                    text = message.get("text")
                self._in_handler = True
                try:
                    await self._on_frame(
                        text if text is not None else message.get("bytes"), text is None
                    )
                finally:
                    self._in_handler = False
        except asyncio.CancelledError:
            if not self._cancelled_main:
                raise
            delivered = True
        finally:
            await self._stop_helpers(main, delivered)
        if self._failure is not None:
            raise self._failure

    async def _handle_concurrently(self) -> None:
        limiter = anyio.Semaphore(self.max_concurrent_frames)
        async with anyio.create_task_group() as tg:
            while not self._stopping:
                message = await self._next_frame()
                await limiter.acquire()
                tg.start_soon(self._limited_frame, limiter, message)

    async def _limited_frame(self, limiter: anyio.Semaphore, message: Message) -> None:
        try:
            text = message.get("text")
            await self._on_frame(text if text is not None else message.get("bytes"), text is None)
        finally:
            limiter.release()

    def _frame_gate(self) -> FrameGate | None:
        close_oversized = self.oversized_frames == "close"
        if self.rate_limit is not None:
            return FrameGate.for_options(
                max_bytes=self.max_frame_bytes,
                close_oversized=close_oversized,
                rate_limit=self.rate_limit,
                close_after=self.rate_limit_close_after,
            )
        # Without a rate limit a gate holds no state: connections share one.
        key = (self.max_frame_bytes, close_oversized)
        if key not in _shared_gates:
            _shared_gates[key] = FrameGate.for_options(
                max_bytes=self.max_frame_bytes,
                close_oversized=close_oversized,
                rate_limit=None,
                close_after=self.rate_limit_close_after,
            )
        return _shared_gates[key]

    @staticmethod
    def _surely_small(gate: FrameGate | None) -> int:
        """Length of a text frame below which ``gate`` surely lets it through (-1: none)."""
        if gate is None or gate.bucket is not None:
            return -1  # a rate limit looks at every frame
        if gate.max_bytes is None:
            return sys.maxsize
        return gate.max_bytes // 4  # a character is at most 4 bytes of UTF-8

    def _on_other_event(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            self._halt(int(message.get("code", 1000)))

    async def _refuse(self, refusal: Refusal) -> None:
        if refusal.close_code is not None:
            if not self._stopping:
                self._end_code = refusal.close_code
            await self._try_close(refusal.close_code, refusal.detail)
            self._halt(None)
        else:
            await self._send_text(encode_error(refusal.error_code, refusal.detail))
            await self._complete(None)

    # -- the socket reader task, once a handler has suspended --------------------------

    def _probe_suspension(self) -> None:
        self._probe_armed = False
        if self._in_handler and self._frames is None and not self._stopping:
            main = self._main
            assert main is not None
            self._start_socket_reader(main.get_loop())

    def _start_socket_reader(self, loop: asyncio.AbstractEventLoop) -> None:
        self._frames = deque()
        self._socket_task = loop.create_task(self._read_socket())

    async def _read_socket(self) -> None:
        receive = self._receive
        gate = self._gate
        frames = self._frames
        assert frames is not None
        limit = max(1, self.max_pending_frames)
        try:
            while not self._stopping:
                message = await receive()
                if message["type"] != "websocket.receive":
                    self._on_other_event(message)
                    continue
                if gate is not None:
                    refusal = gate.check(message)
                    if refusal is not None:
                        if refusal.close_code is not None:
                            await self._refuse(refusal)
                            continue
                        # The error frame answers this frame in its turn, after the replies
                        # to the frames queued before it; the frame's data is not kept.
                        message = {"type": REFUSED, "refusal": refusal}
                while len(frames) >= limit:
                    # Reading pauses, so the server's flow control slows the client down.
                    room = self._room_waiter = asyncio.get_running_loop().create_future()
                    await room
                    self._room_waiter = None
                frames.append(message)
                ready = self._frame_waiter
                if ready is not None and not ready.done():
                    ready.set_result(None)
        except Exception as exc:
            self._fail(exc)

    async def _next_frame(self) -> Message:
        """The next queued frame; refused frames are answered here, in their turn."""
        frames = self._frames
        assert frames is not None
        while True:
            while not frames:
                ready = self._frame_waiter = asyncio.get_running_loop().create_future()
                await ready
                self._frame_waiter = None
            message = frames.popleft()
            room = self._room_waiter
            if room is not None and not room.done():
                room.set_result(None)
            if message["type"] != REFUSED:
                return message
            await self._refuse(message["refusal"])

    # -- stopping ----------------------------------------------------------------------

    async def _guarded(self, work: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run a helper; its failure ends the connection like one in the main task."""
        # The coroutine is made here, not by the caller: a helper cancelled before it
        # first ran must not leave a never-awaited coroutine behind.
        try:
            await work(*args)
        except Exception as exc:
            self._fail(exc)

    async def _read_events(self, layer: ChannelLayer, name: str) -> None:
        """The one reader of this connection's layer channel (its own task)."""
        if self.max_outbound_events is not None:
            return await self._read_events_dropping_oldest(layer, name)
        on_event = self._on_event
        try:
            while True:
                await on_event(await layer.receive(name))
        except Exception as exc:
            self._fail(exc)

    async def _read_events_dropping_oldest(self, layer: ChannelLayer, name: str) -> None:
        # Opt-in slow-client policy: the layer is drained at once into a bounded buffer
        # that a writer empties at the client's pace; when the client falls behind, the
        # oldest pushes are dropped (and counted), so it always gets the freshest ones.
        assert self.max_outbound_events is not None
        buffer: deque[Mapping[str, Any]] = deque(maxlen=self.max_outbound_events)
        ready = asyncio.Event()

        async def write() -> None:
            while True:
                await ready.wait()
                ready.clear()
                while buffer:
                    await self._on_event(buffer.popleft())

        writer = asyncio.get_running_loop().create_task(self._guarded(write))
        try:
            while True:
                event = await layer.receive(name)
                if len(buffer) == buffer.maxlen:
                    self.dropped_events += 1
                buffer.append(event)
                ready.set()
        except Exception as exc:
            self._fail(exc)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def _fail(self, exc: Exception) -> None:
        """A helper task failed: end the connection as if the main task had raised."""
        if self._failure is None:
            self._failure = exc
        self._halt(None)

    def _halt(self, code: int | None) -> None:
        """End the connection: stop reading and cancel in-flight work (once).

        ``code`` (a client's disconnect, a refused frame) becomes the code the disconnect
        hook sees unless the connection was already ending or a close frame was sent.
        """
        if code is not None and not self._stopping and not self._closed:
            self._end_code = code
        self._stopping = True
        main = self._main
        if main is None or self._cancelled_main:
            return
        if main is asyncio.current_task() and not self._in_handler:
            return  # between frames: the loop sees _stopping before it reads again
        self._cancelled_main = True
        main.cancel()

    async def _stop_helpers(self, main: asyncio.Task[Any], delivered: bool) -> None:
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.disarm()
        self._main = None  # a late _halt must not cancel the cleanup
        external = main.cancelling() > 0
        if self._cancelled_main:
            if not delivered:
                # A handler cancelled its own task (close()) and returned before it
                # waited again: take that cancel here rather than in the cleanup.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(0)
            external = main.uncancel() > 0
        helpers = [
            task
            for task in (self._socket_task, self._layer_task)
            if task is not None and not task.done()
        ]
        for task in helpers:
            task.cancel()
        if external:
            raise asyncio.CancelledError  # the server is cancelling this connection
        for task in helpers:
            try:
                await task
            except asyncio.CancelledError:
                if main.cancelling():
                    raise
            except Exception:
                logger.debug("a connection helper failed while stopping", exc_info=True)
