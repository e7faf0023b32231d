"""One WebSocket connection: frames in, events in, send, close; served by one loop.

The consumer owns a `Connection` per socket. The connection knows the transport (the
ASGI ``receive``/``send`` pair, the frame gate, the channel layer's channel) and nothing
of messages: it hands each client frame to the consumer's ``_on_frame`` and each layer
event to its ``_on_event``, in `Connection.serve`, the one serving loop. The consumer
sends through `send_text` and ends the connection with `close`.

Chanx commits to asyncio (no anyio in core). Per connection there is the task the server
started, which runs `serve`, plus a layer reader task when the consumer has a layer, and
a socket reader task once it is needed (below). Plain asyncio tasks measured lighter than
an anyio task group and memory stream: per idle connection a fraction of the memory, and
per frame no checkpoint (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from chanx.core._frames import REFUSED, FrameQueue, FrameTasks, screened, surely_small
from chanx.core._handshake import clip_reason
from chanx.core._limits import POLICY_VIOLATION, FrameGate, Refusal, SendWatchdog
from chanx.core.layers import ChannelLayer
from chanx.core.types import Message, Receive, Send

__all__ = ["Connection", "ConnectionOwner"]

logger = logging.getLogger("chanx.consumer")

# Frames the fast path handles in a row before it gives the event loop back. A burst of
# frames already read is otherwise handled without a pause, and whatever else the loop
# runs waits for all of it: the layer readers of a room's members, whose channels
# (capacity 100 by default) a client bursting broadcasts would fill faster than they drain.
FAIR_SHARE = 16


class ConnectionOwner(Protocol):
    """What a connection serves: the consumer, as the connection sees it."""

    @property
    def max_concurrent_frames(self) -> int:
        """Frames handled at once (1: in order, inline)."""

    @property
    def max_pending_frames(self) -> int:
        """Frames the socket reader queues before it pauses."""

    @property
    def max_outbound_events(self) -> int | None:
        """Buffer size of the drop-oldest policy for pushes (None: off)."""

    async def _on_frame(self, data: str | bytes | None, binary: bool) -> None:
        """Handle one client frame (answers, errors and completion frames included)."""

    async def _on_refused(self, refusal: Refusal) -> None:
        """Answer a frame the gate refused without closing (an error frame, in its turn)."""

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        """Handle one channel-layer event."""


class Connection:
    """One accepted socket: reads client frames and layer events, sends, closes, stops.

    ``end_code`` is the code the consumer's disconnect hook gets: the client's, the one a
    close was sent with, 1008 for a dropped stalled reader.
    """

    __slots__ = (
        "_cancelled_task",
        "_failure",
        "_helpers",
        "_in_handler",
        "_layer_reader",
        "_probe_armed",
        "_queue",
        "_receive",
        "_task",
        "_watchdog",
        "accepted",
        "client_left",
        "closed",
        "dropped_events",
        "end_code",
        "name",
        "send",
        "sends_begun",
        "sends_done",
        "stopping",
    )

    def __init__(self, receive: Receive, send: Send, name: str) -> None:
        self._receive = receive
        #: The ASGI send of this socket (uncounted: use `send_text` once accepted).
        self.send = send
        #: Sends begun and finished, for the slow-reader watchdog (`SendProgress`).
        self.sends_begun = 0
        self.sends_done = 0
        #: Who the connection serves, for log lines.
        self.name = name
        self.accepted = False
        #: Set when the server's send raised: the client is gone (ASGI asks servers for an
        #: `OSError`; uvicorn raises one, daphne autobahn's `Disconnected`). What fails
        #: after that is its consequence, not a bug to log as one.
        self.client_left = False
        self.closed = False
        self.stopping = False
        self.end_code = 1000
        #: Layer pushes dropped by the ``max_outbound_events`` policy.
        self.dropped_events = 0
        self._task: asyncio.Task[Any] | None = None
        self._cancelled_task = False
        self._failure: BaseException | None = None
        self._in_handler = False
        self._probe_armed = False
        self._queue: FrameQueue | None = None  # made once the socket needs a reader task
        self._layer_reader: asyncio.Task[None] | None = None
        self._helpers: tuple[asyncio.Task[None], ...] = ()
        self._watchdog: SendWatchdog | None = None

    # -- the handshake and the interface the consumer uses -----------------------------

    async def receive_connect(self) -> bool:
        """Wait for the client's ``websocket.connect``; False if something else came."""
        return bool((await self._receive())["type"] == "websocket.connect")

    async def accept(self, subprotocol: str | None, slow_client_timeout: float | None) -> None:
        """Accept the handshake; a send blocked ``slow_client_timeout`` s drops the client."""
        await self.send_counted({"type": "websocket.accept", "subprotocol": subprotocol})
        self.accepted = True
        if slow_client_timeout is not None:
            self._watchdog = SendWatchdog(slow_client_timeout)

    async def send_text(self, text: str) -> None:
        """Send one text frame, counted for the slow-reader watchdog.

        The counting of `send_counted`, inline: every push to a client passes here, and a
        coroutine less per push is a measured share of a broadcast's cost per member.
        """
        self.sends_begun += 1
        try:
            await self.send({"type": "websocket.send", "text": text})
        except Exception:  # the server's way of saying the client is gone
            self.client_left = True
            raise
        finally:
            self.sends_done += 1

    async def send_counted(self, message: Message) -> None:
        """Send ``message`` through the ASGI send, counted for the watchdog.

        `send_text` and the consumer's reply fast path do the same inline.
        """
        self.sends_begun += 1
        try:
            await self.send(message)
        except Exception:  # the server's way of saying the client is gone
            self.client_left = True
            raise
        finally:
            self.sends_done += 1

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a close frame (once) and end the connection: in-flight work is cancelled."""
        if not self.stopping:
            self.end_code = code
        await self.send_close(code, reason)
        self.halt(None)

    async def send_close(self, code: int, reason: str | None) -> None:
        """Send a close frame unless one was sent (or the client is gone); never raises."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.send_counted(
                {"type": "websocket.close", "code": code, "reason": clip_reason(reason)}
            )
        except Exception:  # the client may already be gone
            logger.debug("close after the client left", exc_info=True)

    # -- the serving loop --------------------------------------------------------------

    async def serve(
        self,
        owner: ConnectionOwner,
        gate: FrameGate | None,
        layer: ChannelLayer | None = None,
        channel_name: str | None = None,
    ) -> None:
        """Serve client frames (in order) and layer events until the connection ends.

        The loop runs in the server's task and, while no handler has really suspended,
        reads the socket itself and handles each frame inline: no task switch, no queue,
        no extra task per connection (the fast path; see `_probe_suspension` for when it
        ends). With ``max_concurrent_frames > 1`` a socket reader feeds it from the start.
        """
        task = self._task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        if layer is not None and channel_name is not None:
            self._layer_reader = loop.create_task(self._read_events(owner, layer, channel_name))
        if self._watchdog is not None:
            # one sweeper per event loop checks every armed watchdog: no task per socket
            self._watchdog.arm(self, self._drop_stalled_client)
        spread: FrameTasks | None = None  # frames in tasks, for max_concurrent_frames > 1
        if owner.max_concurrent_frames > 1:
            spread = FrameTasks(owner.max_concurrent_frames, self._fail)
            self._start_socket_reader(loop, gate, owner.max_pending_frames)
        receive = self._receive
        small = surely_small(gate)
        delivered = False
        inline = 0  # frames handled since this task last gave the event loop back
        try:
            while not self.stopping:
                queue = self._queue
                if queue is None:  # the fast path: this task reads the socket
                    message = await receive()
                    if message["type"] == "websocket.receive":
                        text = message.get("text")
                        if gate is not None and (text is None or len(text) > small):
                            message = screened(gate, message)
                        if not self._probe_armed:
                            # Runs once this task yields to the loop: if it yields inside a
                            # handler, the handler suspended and the socket needs a reader.
                            self._probe_armed = True
                            loop.call_soon(self._probe_suspension, gate, owner)
                            inline = 0  # the loop ran since the last frame
                else:
                    message = await queue.get()  # waits only when no frame is queued
                inline += 1
                if inline >= FAIR_SHARE:
                    inline = 0
                    await asyncio.sleep(0)
                if message["type"] != "websocket.receive":
                    if message["type"] == REFUSED:
                        await self._refused(owner, message["refusal"])
                    elif message["type"] == "websocket.disconnect":
                        self.halt(int(message.get("code", 1000)))
                    continue
                text = message.get("text")
                if spread is None:
                    self._in_handler = True
                    try:
                        await owner._on_frame(
                            text if text is not None else message.get("bytes"), text is None
                        )
                    finally:
                        self._in_handler = False
                else:
                    data = text if text is not None else message.get("bytes")
                    await spread.start(owner._on_frame, data, text is None)
        except asyncio.CancelledError:
            if not self._cancelled_task:
                raise
            delivered = True
        finally:
            await self._stop_helpers(task, delivered, spread)
        if self._failure is not None:
            raise self._failure

    async def _refused(self, owner: ConnectionOwner, refusal: Refusal) -> None:
        """The one place a refused frame is answered, in its turn: an error frame.

        A refusal that closes (an oversized frame under the "close" policy, a client over
        its rate limit again and again) ends the connection at once wherever it is seen.
        """
        if refusal.close_code is not None:
            await self.close(refusal.close_code, refusal.detail)
        else:
            await owner._on_refused(refusal)

    # -- the socket reader task --------------------------------------------------------

    def _probe_suspension(self, gate: FrameGate | None, owner: ConnectionOwner) -> None:
        # The fast path ends here, for the rest of the connection, the first time a
        # handler really waits (a layer send, a database call): from then on a reader task
        # reads the socket, so a disconnect is seen (and cancels the handler) while the
        # handler waits, and frames queue in order for the loop. Measured: this check
        # costs about 0.3 µs per loop pass on uvloop, less than driving handlers by hand.
        self._probe_armed = False
        if self._in_handler and self._queue is None and not self.stopping:
            task = self._task
            assert task is not None
            self._start_socket_reader(task.get_loop(), gate, owner.max_pending_frames)

    def _start_socket_reader(
        self, loop: asyncio.AbstractEventLoop, gate: FrameGate | None, pending: int
    ) -> None:
        queue = self._queue = FrameQueue(pending)
        self._start(loop, self._read_socket(gate, queue))

    async def _read_socket(self, gate: FrameGate | None, queue: FrameQueue) -> None:
        receive = self._receive
        while not self.stopping:
            message = await receive()
            if message["type"] != "websocket.receive":
                if message["type"] == "websocket.disconnect":
                    self.halt(int(message.get("code", 1000)))
                continue
            if gate is not None:
                message = screened(gate, message)
                refusal = message.get("refusal")
                if refusal is not None and refusal.close_code is not None:
                    await self.close(refusal.close_code, refusal.detail)  # now, not in turn
                    continue
            await queue.put(message)

    # -- the layer reader task ---------------------------------------------------------

    async def _read_events(self, owner: ConnectionOwner, layer: ChannelLayer, name: str) -> None:
        """The one reader of this connection's layer channel (its own task)."""
        # It guards itself rather than through `_start`'s done callback: every idle
        # connection with a layer keeps this task, so it stays as light as it can be.
        try:
            if owner.max_outbound_events is not None:
                return await self._read_events_dropping_oldest(owner, layer, name)
            on_event = owner._on_event
            while True:
                await on_event(await layer.receive(name))
        except Exception as exc:
            self._fail(exc)

    async def _read_events_dropping_oldest(
        self, owner: ConnectionOwner, layer: ChannelLayer, name: str
    ) -> None:
        # Opt-in slow-client policy: the layer is drained at once into a bounded buffer
        # that a writer empties at the client's pace; when the client falls behind, the
        # oldest pushes are dropped (and counted), so it always gets the freshest ones.
        assert owner.max_outbound_events is not None
        buffer: deque[Mapping[str, Any]] = deque(maxlen=owner.max_outbound_events)
        ready = asyncio.Event()

        async def write() -> None:
            while True:
                await ready.wait()
                ready.clear()
                while buffer:
                    await owner._on_event(buffer.popleft())

        writer = self._start(asyncio.get_running_loop(), write())
        try:
            while True:
                event = await layer.receive(name)
                if len(buffer) == buffer.maxlen:
                    self.dropped_events += 1
                buffer.append(event)
                ready.set()
        finally:
            writer.cancel()

    def _drop_stalled_client(self) -> None:
        logger.warning("%s dropped a client that stopped reading", self.name)
        if not self.stopping:
            self.end_code = POLICY_VIOLATION
        self.closed = True  # a close frame would block like everything else
        self.halt(None)

    # -- stopping ----------------------------------------------------------------------

    def _start(
        self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None]:
        """A helper task; its failure ends the connection like one in the serving task."""
        # A done callback rather than a wrapping coroutine: an idle connection keeps its
        # helpers' stacks allocated, and a coroutine frame costs more than a callback.
        helper = loop.create_task(work)
        helper.add_done_callback(self._helper_done)
        self._helpers = (*self._helpers, helper)
        return helper

    def _helper_done(self, helper: asyncio.Task[Any]) -> None:
        if not helper.cancelled() and (error := helper.exception()) is not None:
            self._fail(error)

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
        self.halt(None)

    def halt(self, code: int | None) -> None:
        """End the connection: stop reading and cancel in-flight work (once).

        ``code`` (a client's disconnect) becomes `end_code` unless the connection was
        already ending or a close frame was sent.
        """
        if code is not None and not self.stopping and not self.closed:
            self.end_code = code
        self.stopping = True
        task = self._task
        if task is None or self._cancelled_task:
            return
        if task is asyncio.current_task() and not self._in_handler:
            return  # between frames: the loop sees `stopping` before it reads again
        self._cancelled_task = True
        task.cancel()

    async def _stop_helpers(
        self, task: asyncio.Task[Any], delivered: bool, spread: FrameTasks | None
    ) -> None:
        self.stopping = True
        if self._watchdog is not None:
            self._watchdog.disarm()
        self._task = None  # a late halt must not cancel the cleanup
        external = task.cancelling() > 0
        if self._cancelled_task:
            if not delivered:
                # A handler cancelled its own task (close()) and returned before it
                # waited again: take that cancel here rather than in the cleanup.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(0)
            external = task.uncancel() > 0
        layer_reader = (self._layer_reader,) if self._layer_reader is not None else ()
        helpers = [
            t
            for t in (*layer_reader, *self._helpers, *(spread.running if spread else ()))
            if not t.done()
        ]
        for helper in helpers:
            helper.cancel()
        if external:
            raise asyncio.CancelledError  # the server is cancelling this connection
        for helper in helpers:
            try:
                await helper
            except asyncio.CancelledError:
                if task.cancelling():
                    raise
            except Exception:
                logger.debug("a connection helper failed while stopping", exc_info=True)
