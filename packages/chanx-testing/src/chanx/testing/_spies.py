"""`CaptureLayer`: a channel layer that records what consumers send to channels and groups."""

# Waits here are bounded by a per-call ``timeout``, like the communicator's.
# ruff: noqa: ASYNC109
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from chanx.core import SEND_TEXT_EVENT
from chanx.core.layers import ChannelLayer

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class CapturedSend:
    """One message a `CaptureLayer` saw: ``kind`` (send or group_send), ``target``, ``message``.

    ``target`` is the channel name of a ``send`` and the group of a ``group_send``.
    """

    kind: Literal["send", "group_send"]
    target: str
    message: dict[str, Any]
    delivered: bool = True

    @property
    def is_frame(self) -> bool:
        """Whether this is a ready client frame (a ``broadcast_message``), not an event."""
        return bool(self.message.get("type") == SEND_TEXT_EVENT)

    @property
    def frame(self) -> Any:
        """The client frame a ``broadcast_message`` carries, decoded from JSON.

        Raises:
            ValueError: The message is a layer event, not a broadcast frame.
        """
        if not self.is_frame:
            raise ValueError(f"expected a broadcast frame, but got the event {self.message!r}")
        return json.loads(self.message["text"])

    @property
    def excluded_channel(self) -> str | None:
        """The channel skipped by ``broadcast_message(..., exclude_current=True)``."""
        excluded = self.message.get("exclude")
        return excluded if isinstance(excluded, str) else None


class CaptureLayer:
    """Wrap a channel layer and record every ``send`` and ``group_send`` passing through.

    Install it where consumers look for their layer (the ``chanx_capture`` fixture does),
    then assert on what was sent. ``deliver=False`` records without delivering, to check
    what a consumer would broadcast without anyone receiving it. Everything else
    (``receive``, groups, ``flush``) goes straight to ``inner``.

    Args:
        inner: The layer that does the work (an `InMemoryChannelLayer` in tests).
        deliver: Pass recorded messages on to ``inner``; may be changed at any time.
    """

    def __init__(self, inner: ChannelLayer, *, deliver: bool = True) -> None:
        self.inner = inner
        self.deliver = deliver
        self.extensions = inner.extensions
        self._records: list[CapturedSend] = []
        self._lock = threading.Lock()  # senders may run in other threads (async_to_sync)
        self._waiters: list[asyncio.Future[None]] = []

    def __repr__(self) -> str:
        return f"CaptureLayer({self.inner!r}, deliver={self.deliver!r})"

    # -- the ChannelLayer protocol ------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Record, then (when delivering) send ``message`` to ``channel``."""
        deliver = self.deliver
        if deliver:
            await self.inner.send(channel, message)
        self._record(CapturedSend("send", channel, message, deliver))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Record, then (when delivering) send ``message`` to ``group``."""
        deliver = self.deliver
        if deliver:
            await self.inner.group_send(group, message)
        self._record(CapturedSend("group_send", group, message, deliver))

    async def receive(self, channel: str) -> dict[str, Any]:
        """Receive from the inner layer."""
        return await self.inner.receive(channel)

    async def new_channel(self, prefix: str = "specific.") -> str:
        """A new channel name from the inner layer."""
        return await self.inner.new_channel(prefix)

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group`` in the inner layer."""
        await self.inner.group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group`` in the inner layer."""
        await self.inner.group_discard(group, channel)

    async def flush(self) -> None:
        """Flush the inner layer (the records stay; see `clear`)."""
        await self.inner.flush()

    async def close(self) -> None:
        """Close the inner layer."""
        await self.inner.close()

    # -- what was captured ----------------------------------------------------------------

    @property
    def records(self) -> list[CapturedSend]:
        """Everything captured so far, oldest first (a copy)."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget what was captured."""
        with self._lock:
            self._records.clear()

    def sent_to(self, target: str | None = None) -> list[CapturedSend]:
        """Captured messages, only those to ``target`` (a group or channel) when given."""
        return [r for r in self.records if target is None or r.target == target]

    def frames(self, group: str | None = None) -> list[Any]:
        """Decoded client frames broadcast (``broadcast_message``), to ``group`` when given."""
        return [r.frame for r in self.sent_to(group) if r.is_frame]

    def messages(self, model: type[ModelT], group: str | None = None) -> list[ModelT]:
        """Broadcast frames whose ``action`` matches ``model``'s, validated into ``model``."""
        texts = [r.message["text"] for r in self.sent_to(group) if r.is_frame]
        field = model.model_fields.get("action")
        literal = field is not None and typing.get_origin(field.annotation) is Literal
        actions = typing.get_args(field.annotation) if field is not None and literal else None
        found = []
        for text in texts:
            if actions is None or json.loads(text).get("action") in actions:
                found.append(model.model_validate_json(text))
        return found

    def events(
        self, group: str | None = None, *, event_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Layer events sent (``broadcast_event``, raw ``group_send``), filtered when asked."""
        return [
            r.message
            for r in self.sent_to(group)
            if not r.is_frame and (event_type is None or r.message.get("type") == event_type)
        ]

    async def wait_for(
        self,
        predicate: Callable[[list[CapturedSend]], bool] | int = 1,
        *,
        timeout: float = 1.0,
    ) -> list[CapturedSend]:
        """Wait until ``predicate(records)`` holds (an int n: at least n records).

        Returns:
            The records at that moment.

        Raises:
            TimeoutError: It did not hold within ``timeout`` seconds; the message shows
                what was captured.
        """
        check = predicate if callable(predicate) else _at_least(predicate)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    with self._lock:
                        records = list(self._records)
                        if check(records):
                            return records
                        waiter: asyncio.Future[None] = loop.create_future()
                        self._waiters.append(waiter)
                    await waiter
        except TimeoutError:
            raise TimeoutError(
                f"the capture condition did not hold within {timeout} s; captured: {records!r}"
            ) from None

    def _record(self, record: CapturedSend) -> None:
        with self._lock:
            self._records.append(record)
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # that waiter's event loop is closed
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)


def _at_least(count: int) -> Callable[[list[CapturedSend]], bool]:
    return lambda records: len(records) >= count


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
