"""The receiving side of the Redis layer, per event loop.

`Inbox`: one Redis list per process (per ``new_channel`` prefix) holding the messages of all
its process-specific channels. One background task pops it in batches and hands each message
to local per-channel mailboxes; a group message names all the local channels it is for, so
it crosses the network once per process.

`Puller`: a normal channel received in this process. One task per channel pops from the
channel's list only while local receivers wait, so each message reaches exactly one receiver
and a cancelled ``receive`` loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Container
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chanx.core.layers import Mailbox
from chanx.redis._connection import Shard
from chanx.redis._ledger import Ledger
from chanx.redis._settings import BLOCK_SECONDS, Item, Settings, recover

if TYPE_CHECKING:  # _wire needs hiredis, an optional dependency
    from chanx.redis._wire import Wire

__all__ = ["Inbox", "Puller"]

logger = logging.getLogger("chanx.redis")

BATCH = 512


def _cancel_requested() -> bool:
    # redis-py can swallow a cancellation that lands while it connects; the loops check.
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Inbox:
    """A process inbox: its Redis list, its reader task, local mailboxes and pending acks."""

    def __init__(self, name: str, shard: Shard, key: str, counts: str, settings: Settings):
        self.name = name
        self.shard = shard
        self.key = key
        self.counts = counts
        self.settings = settings
        self.mailboxes: dict[str, Mailbox[Item]] = {}
        for suffix, items in settings.unpark(name).items():
            self.mailbox(suffix).items.extend(items)
        # When each channel last had a receiver (Unix time): renews its memberships.
        self.receivers: dict[str, float] = {}
        self.ledger = Ledger(shard, counts, settings.expiry_ms)
        self._task = asyncio.get_running_loop().create_task(self._read())
        self._blmpop = True
        self._closing = False
        self._wire: Wire | None = None
        self._last_sweep = time.monotonic()

    def mailbox(self, suffix: str) -> Mailbox[Item]:
        box = self.mailboxes.get(suffix)
        if box is None:
            box = self.mailboxes[suffix] = Mailbox()
        return box

    def alive_at(self, suffix: str, now: float) -> float:
        """When ``suffix`` last had a receiver: ``now`` while one waits, else its last receive."""
        box = self.mailboxes.get(suffix)
        if box is not None and box.waiting:
            return now
        return self.receivers.get(suffix, 0.0)

    def forget_receivers(self, before: float, members: Container[str]) -> None:
        """Forget receive times that renew nothing (too old, or of a channel in no group).

        ``before``: older ones go; ``members``: the suffixes in a group here. A channel in
        none, with no mailbox, needs no receive time. Every connection leaves one: kept
        for ``group_expiry`` (a day by default), they grew by one per connection served.
        """
        mailboxes = self.mailboxes
        for suffix in [
            name
            for name, seen in self.receivers.items()
            if seen < before or (name not in members and name not in mailboxes)
        ]:
            del self.receivers[suffix]

    async def receive(self, suffix: str) -> dict[str, Any]:
        box = self.mailbox(suffix)
        receivers = self.receivers
        receivers[suffix] = time.time()
        while True:
            stamp, message, counted = await box.get()
            receivers[suffix] = time.time()
            if counted:
                self.ledger.change(suffix, -1)
            if box.idle() and self.mailboxes.get(suffix) is box:
                del self.mailboxes[suffix]
            if self.settings.expired(stamp):
                self.settings.outlived(f"{self.name}!{suffix}", stamp)
                continue
            return message

    def clear(self) -> None:
        for box in self.mailboxes.values():
            box.items.clear()
        self.ledger.clear()

    async def _pop(self) -> list[bytes]:
        shard = self.shard
        if self._blmpop:
            try:
                reply = await shard.execute(
                    "BLMPOP", BLOCK_SECONDS, 1, self.key, "LEFT", "COUNT", BATCH, blocking=True
                )
            except ResponseError as error:
                if "unknown command" not in str(error).lower():
                    raise
                self._blmpop = False  # Redis < 7
            else:
                return list(reply[1]) if reply else []
        reply = await shard.execute("BLPOP", self.key, BLOCK_SECONDS, blocking=True)
        if not reply:
            return []
        rest = await shard.execute("LPOP", self.key, BATCH)
        return [reply[1], *(rest or [])]

    async def _read(self) -> None:
        await self.shard.restarted()
        # A blocking pop returns within BLOCK_SECONDS and a subscription pings as often,
        # so a stop is seen soon.
        while not self._stopped():
            try:
                if self.shard.lean:
                    await self._listen()
                    continue
                entries = await self._pop()
            except (RedisError, OSError) as error:
                await recover(
                    self.shard, self.settings, f"inbox {self.name!r}", error, self._stopped
                )
                continue
            if entries:
                self._dispatch(entries)
                # Let the woken receivers run (and their replies leave) before the next pop
                # is written: that write is not on their critical path.
                await asyncio.sleep(0)
            self._sweep_when_due()

    async def _listen(self) -> None:
        """Subscribe to the inbox (senders publish to it), then drain what queued before.

        A pushed message needs no command from the reader, where a pop needs one per
        wake-up; across processes that is two fewer Redis commands per round trip.
        """
        wire = await self.shard.open_reader()
        assert wire is not None
        self._wire = wire
        held: list[bytes] | None = []

        def pushed(entry: bytes) -> None:
            if held is None:
                self._dispatch([entry])
            else:
                held.append(entry)

        wire.on_push = pushed
        try:
            await self._answer(wire.command("SUBSCRIBE", self.key))
            # The list holds only what was sent before the subscription: it goes first.
            while entries := await self.shard.lean_command("LPOP", self.key, BATCH):
                self._dispatch(entries)
            entries, held = held or [], None
            self._dispatch(entries)
            while not self._stopped():
                await asyncio.wait([wire.lost], timeout=BLOCK_SECONDS)
                if wire.lost.done():
                    raise RedisConnectionError("Redis closed the inbox subscription")
                await self._answer(wire.command("PING"))  # proof of life
                self._sweep_when_due()
        finally:
            self.shard.close_reader(wire)

    async def _answer(self, reply: asyncio.Future[Any]) -> Any:
        try:
            async with asyncio.timeout(self.shard.command_timeout):
                return await reply
        except TimeoutError:
            raise RedisTimeoutError("Redis did not answer the inbox reader in time") from None

    def _sweep_when_due(self) -> None:
        if time.monotonic() - self._last_sweep > self.settings.expiry_ms / 1000:
            self._sweep()

    def _dispatch(self, entries: list[bytes]) -> None:
        settings = self.settings
        for entry in entries:
            decoded = settings.decode(entry, f"inbox {self.name!r}")
            if decoded is None:
                continue
            stamp, suffixes, message, grouped = decoded
            if settings.expired(stamp):
                settings.outlived(f"inbox {self.name!r}", stamp, len(suffixes))
                if not grouped:
                    for suffix in suffixes:
                        self.ledger.change(suffix, -1)
                continue
            item = (stamp, message, True)
            if grouped:
                self._deliver_group(suffixes, item)
                continue
            for suffix in suffixes:
                self.mailbox(suffix).put(item)

    def _deliver_group(self, suffixes: list[str], item: Item) -> None:
        """Queue a group message for its members here, skipping (and counting) full ones.

        The sender did not count it against the capacity in Redis. A message that a waiting
        receiver takes at once needs no count; one that queues is added to the counts through
        the ledger, so remote senders see it within one flush.
        """
        capacity_for = self.settings.capacity_for
        taken_at_once = (item[0], item[1], False)
        for suffix in suffixes:
            box = self.mailbox(suffix)
            queued = len(box.items)
            if queued >= capacity_for(f"{self.name}!{suffix}"):
                self.settings.dropped(f"{self.name}!{suffix}", item[0])
            elif box.waiting > queued:
                box.put(taken_at_once)
            else:
                box.put(item)
                self.ledger.change(suffix, 1)

    def _sweep(self) -> None:
        """Drop expired messages of channels nobody is receiving (closed consumers)."""
        self._last_sweep = time.monotonic()
        for suffix, box in list(self.mailboxes.items()):
            if box.waiting:
                continue
            kept: list[Item] = []
            for item in box.take_all():
                if self.settings.expired(item[0]):
                    self.settings.stats.expired += 1
                    if item[2]:
                        self.ledger.change(suffix, -1)
                else:
                    kept.append(item)
            box.items.extend(kept)
            if not kept:
                del self.mailboxes[suffix]

    def deliver_local(self, suffix: str, message: dict[str, Any], capacity: int) -> bool:
        """Hand a message sent in this process straight to its mailbox; False when full."""
        box = self.mailbox(suffix)
        if len(box.items) >= capacity:
            return False
        box.put((int(time.time() * 1000), message, True))
        self.ledger.change(suffix, 1)
        return True

    def _stopped(self) -> bool:
        return self._closing or _cancel_requested()

    async def aclose(self) -> None:
        self._closing = True
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self._wire is not None:
            self.shard.close_reader(self._wire)
        for suffix, box in self.mailboxes.items():
            if box.items:
                self.settings.park(self.name, suffix, box.take_all())
        await self.ledger.aclose()


class Puller:
    """Pops a normal channel's list on behalf of local receivers, one message per waiter."""

    def __init__(self, channel: str, shard: Shard, key: str, settings: Settings):
        self.channel = channel
        self.shard = shard
        self.key = key
        self.settings = settings
        self.box: Mailbox[Item] = Mailbox()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def receive(self) -> dict[str, Any]:
        while True:
            if self._task is None and len(self.box) <= self.box.waiting:
                self._task = asyncio.get_running_loop().create_task(self._pull())
            stamp, message, _ = await self.box.get()
            if self.settings.expired(stamp):
                self.settings.outlived(self.channel, stamp)
                continue
            return message

    async def _pull(self) -> None:
        try:
            while self.box.waiting > len(self.box) and not self._stopped():
                try:
                    reply = await self.shard.execute(
                        "BLPOP", self.key, BLOCK_SECONDS, blocking=True
                    )
                except (RedisError, OSError) as error:
                    await recover(
                        self.shard, self.settings, f"channel {self.channel!r}", error, self._stopped
                    )
                    continue
                if reply:
                    decoded = self.settings.decode(reply[1], f"channel {self.channel!r}")
                    if decoded is not None:
                        self.box.put((decoded[0], decoded[2], False))
        finally:
            self._task = None

    def _stopped(self) -> bool:
        return self._closing or _cancel_requested()

    async def aclose(self) -> list[bytes]:
        """Stop pulling; return what was popped but not received, to be pushed back."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        leftovers: list[bytes] = []
        for stamp, message, _ in self.box.take_all():
            leftovers.append(b"%d\x00\x00%b" % (stamp, self.settings.serializer.dumps(message)))
        return leftovers
