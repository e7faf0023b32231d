"""The keeper: this process's memberships are its truth, re-asserted in Redis on a timer.

Redis can forget a membership: a restart without persistence, an evicting
``maxmemory-policy``, a flush. The process that owns a channel knows its groups, so each
event loop that reads inboxes runs one keeper task which, every ``interval`` seconds (well
inside ``group_expiry``) and at once after a reconnect:

- looks at each server (``INFO``): a new run id is a restart, a grown ``evicted_keys`` an
  eviction; either is logged once, with the window in which messages may have been lost;
- writes this loop's memberships back (``ZADD GT``), with the time their channel last had
  a receiver as the score, so a live connection never expires out of its groups while a
  channel nobody reads does, ``group_expiry`` after its last receive;
- counts the memberships it found missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError, ResponseError

from chanx.core.layers import LossReporter
from chanx.redis._scripts import GROUP_RENEW, gone_key, group_key
from chanx.redis._stats import RedisLayerStats

if TYPE_CHECKING:
    from chanx.redis._connection import Shard
    from chanx.redis._state import LoopState

__all__ = ["Keeper", "Memberships", "local_members"]

logger = logging.getLogger("chanx.redis")

# group -> channel -> when it joined (Unix time): the process's own channels only
Memberships = dict[str, dict[str, float]]
CHUNK = 500  # memberships per script call: a long call would stall Redis for everyone


class _Server:
    """What the keeper last saw of one shard."""

    __slots__ = ("evicted", "identity", "last_ok")

    def __init__(self, identity: str, evicted: int, last_ok: float) -> None:
        self.identity = identity
        self.evicted = evicted
        self.last_ok = last_ok


def _facts(info: dict[str, Any]) -> tuple[str, int, set[str]]:
    """Run id(s), evicted key count and maxmemory policies from an ``INFO`` reply."""
    nodes = [info] if "run_id" in info else [n for n in info.values() if isinstance(n, dict)]
    identity = ",".join(sorted(str(node.get("run_id")) for node in nodes))
    evicted = sum(int(node.get("evicted_keys", 0)) for node in nodes)
    policies = {str(node.get("maxmemory_policy", "noeviction")) for node in nodes}
    return identity, evicted, policies


class Keeper:
    """Re-asserts one event loop's memberships and watches its servers (see the module)."""

    def __init__(
        self,
        state: LoopState,
        memberships: Memberships,
        *,
        prefix: str,
        group_expiry: float,
        interval: float,
        stats: RedisLayerStats,
        reporter: LossReporter,
        looked_at: set[int],
    ) -> None:
        self.state = state
        self.memberships = memberships
        self.prefix = prefix
        self.group_expiry = group_expiry
        self.interval = interval
        self.stats = stats
        self.reporter = reporter
        self._looked_at = looked_at
        self._servers: dict[int, _Server] = {}
        # Restarts and evictions seen but not reported yet: the report waits for the round
        # that gets the memberships back in, so its window covers the whole loss.
        self._pending: dict[int, tuple[str, float, int]] = {}
        self._renewed_at: float | None = None  # memberships last known to be in Redis
        self._refused = False  # Redis refuses the memberships (out of memory): warned
        self._wake = asyncio.Event()
        self.lock = asyncio.Lock()  # one round at a time; flush waits for it
        self._task = asyncio.get_running_loop().create_task(self._run())
        state.background.append(self._task)

    def wake(self) -> None:
        """Run a round now (after a reconnect) instead of at the next tick."""
        self._wake.set()

    async def _run(self) -> None:
        task = asyncio.current_task()

        def cancelled() -> bool:
            return task is not None and task.cancelling() > 0

        # redis-py can swallow a cancellation that lands while it connects: look for it, also
        # right after a round, or close() would wait out a whole interval below.
        while not cancelled():
            self._wake.clear()
            try:
                async with self.lock:
                    await self.round()
            except ResponseError as error:  # refused: out of memory, a read-only replica...
                if not self._refused:
                    self._refused = True
                    logger.warning(
                        "Redis refuses to renew this process's group memberships (%s): "
                        "while it does, memberships that go missing there (evicted, "
                        "flushed, or past group_expiry) are not written back, and group "
                        "messages other processes send them are lost; such a loss is "
                        "reported once Redis takes them back, with its window",
                        error,
                    )
            except (RedisError, OSError) as error:  # down: the readers report it
                logger.debug("keeper round failed: %r", error)
            if cancelled():
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def round(self) -> None:
        """Check every server, write the memberships back, and log what was lost."""
        for index, shard in enumerate(self.state.shards):
            found = await self._check(index, shard)
            if found is not None:
                self._note(index, *found)
        renewing = time.time()
        restored = await self._renew()
        end = time.time()
        self._refused = False
        causes, self._pending = self._pending, {}
        # Missing memberships were last known to be there when the last renewal ran.
        confirmed, self._renewed_at = self._renewed_at, renewing
        for index, (cause, start, count) in causes.items():
            where = self.state.shards[index].spec
            if cause == "redis_restart":
                detail = (
                    f"Redis restarted or failed over ({where}): messages queued there were lost; "
                    f"{restored} membership(s) of this process restored"
                )
            else:
                detail = (
                    f"Redis evicted {count} key(s) ({where}, maxmemory-policy is not "
                    f"noeviction): group memberships and queued messages may be among them; "
                    f"{restored} membership(s) of this process restored"
                )
            self.reporter.incident(cause, start, end, count, detail)
        if restored and not causes:
            start = confirmed if confirmed is not None else renewing
            self.reporter.incident(
                "memberships_lost",
                start,
                end,
                restored,
                f"{restored} membership(s) of this process were missing in Redis and were "
                "restored; group messages other processes sent them meanwhile were lost",
            )
        self.reporter.close(quiet_only=True)
        cutoff = end - self.group_expiry
        in_groups: dict[str, set[str]] = {}
        for members in self.memberships.values():
            for channel in members:
                inbox_name, _, suffix = channel.partition("!")
                in_groups.setdefault(inbox_name, set()).add(suffix)
        for name, inbox in self.state.inboxes.items():
            inbox.forget_receivers(cutoff, in_groups.get(name, frozenset()))

    def _note(self, index: int, cause: str, start: float, count: int) -> None:
        """Add a finding to the shard's unreported one (a restart outweighs an eviction)."""
        held = self._pending.get(index)
        if held is not None:
            cause = "redis_restart" if "redis_restart" in (cause, held[0]) else cause
            start, count = min(start, held[1]), count + held[2]
        self._pending[index] = (cause, start, count)

    async def _check(self, index: int, shard: Shard) -> tuple[str, float, int] | None:
        try:
            info = await shard.execute("INFO")
        except ResponseError as error:  # refused (an ACL without INFO, a proxy)
            if index not in self._looked_at:
                self._looked_at.add(index)
                logger.warning(
                    "Redis %s refused INFO (%s): restarts and evictions are noticed only "
                    "through the memberships found missing",
                    shard.spec,
                    error,
                )
            return None
        except (RedisError, OSError):
            return None  # down: the readers report it; the next round looks again
        identity, evicted, policies = _facts(info)
        now = time.time()
        seen = self._servers.get(index)
        self._servers[index] = _Server(identity, evicted, now)
        self._watch_policy(index, policies)
        if seen is None:
            return None
        if seen.identity != identity:
            self.stats.redis_restarts += 1
            return "redis_restart", seen.last_ok, 0
        if evicted > seen.evicted:
            self.stats.evicted_keys += evicted - seen.evicted
            return "eviction", seen.last_ok, evicted - seen.evicted
        return None

    def _watch_policy(self, index: int, policies: set[str]) -> None:
        """Warn once per layer and shard when Redis may evict the layer's keys.

        At start-up, and again whenever an operator switches an evicting policy on.
        """
        risky = sorted(policy for policy in policies if policy != "noeviction")
        if not risky:
            self._looked_at.discard(index)
        elif index not in self._looked_at:
            self._looked_at.add(index)
            logger.warning(
                "Redis %s has maxmemory-policy %s: under memory pressure it deletes layer keys "
                "(memberships, queued messages) and messages are lost; use noeviction "
                "(the layer restores its memberships within %.1f s and reports each eviction)",
                self.state.shards[index].spec,
                ",".join(risky),
                self.interval,
            )

    async def _renew(self) -> int:
        """Write this loop's memberships back; return how many were missing."""
        now = time.time()
        cutoff = now - self.group_expiry
        batches: dict[tuple[int, str], list[tuple[str, list[tuple[float, float, str]]]]] = {}
        for group, members in list(self.memberships.items()):
            entries: list[tuple[float, float, str]] = []
            for channel, joined in list(members.items()):
                inbox, _, suffix = channel.partition("!")
                reader = self.state.inboxes.get(inbox)
                if reader is None:
                    continue  # read by another event loop: its keeper renews it
                score = max(joined, reader.alive_at(suffix, now))
                if score < cutoff:
                    del members[channel]  # nobody reads it: it expires as the spec says
                    continue
                entries.append((score, joined, channel))
            if not members:
                self.memberships.pop(group, None)
            if entries:
                index = self.state.ring.index(group)
                slot = group if self.state.shards[index].is_cluster else ""
                batches.setdefault((index, slot), []).append((group, entries))
        restored = 0
        for (index, _), groups in batches.items():
            for chunk in _chunks(groups):
                restored += await self._renew_chunk(self.state.shards[index], chunk)
        self.stats.memberships_restored += restored
        return restored

    async def _renew_chunk(
        self, shard: Shard, chunk: list[tuple[str, list[tuple[float, float, str]]]]
    ) -> int:
        keys: list[str] = []
        args: list[Any] = [int(self.group_expiry) + 1]
        for group, entries in chunk:
            keys += [group_key(self.prefix, group), gone_key(self.prefix, group)]
            args.append(len(entries))
            for score, joined, channel in entries:
                args += [repr(score), repr(joined), channel]
        restored, removed = await shard.run_script(GROUP_RENEW, keys, args)
        for group, channel in _members_of(chunk, removed):
            members = self.memberships.get(group)
            if members is not None:
                members.pop(channel, None)
        # A group_discard that ran while the script was on its way may have been undone by
        # it: remove those again. They were left, not lost: not counted as restored.
        undone: set[tuple[str, str]] = set()
        for group, entries in chunk:
            members = self.memberships.get(group, {})
            for _, _, channel in entries:
                if channel not in members:
                    undone.add((group, channel))
                    await shard.execute("ZREM", group_key(self.prefix, group), channel)
        return sum(1 for member in _members_of(chunk, restored) if member not in undone)


def _members_of(
    chunk: list[tuple[str, list[tuple[float, float, str]]]], items: list[bytes | str]
) -> list[tuple[str, str]]:
    """(group, channel) of a renewal script's "index channel" items."""
    found: list[tuple[str, str]] = []
    for item in items:
        position, _, channel = (item.decode() if isinstance(item, bytes) else item).partition(" ")
        found.append((chunk[int(position)][0], channel))
    return found


def local_members(
    memberships: Memberships, state: LoopState, group: str, cutoff: float
) -> set[str]:
    """The live channels of ``state``'s inboxes in ``group``, by the process's own table."""
    members = memberships.get(group)
    if not members or not state.inboxes:  # a loop that only sends (async_to_sync) reads none
        return set()
    now = time.time()
    local: set[str] = set()
    for channel, joined in members.items():
        inbox, _, suffix = channel.partition("!")
        reader = state.inboxes.get(inbox)
        if reader is not None and (joined >= cutoff or reader.alive_at(suffix, now) >= cutoff):
            local.add(channel)
    return local


def _chunks(
    groups: list[tuple[str, list[tuple[float, float, str]]]],
) -> list[list[tuple[str, list[tuple[float, float, str]]]]]:
    chunks: list[list[tuple[str, list[tuple[float, float, str]]]]] = [[]]
    size = 0
    for group, entries in groups:
        for start in range(0, len(entries), CHUNK):
            part = entries[start : start + CHUNK]
            if size + len(part) > CHUNK and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append((group, part))
            size += len(part)
    return chunks
