"""Groups on Redis: memberships (Redis's and this process's own) and group fan-out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any

from chanx.redis._keeper import Memberships, local_members
from chanx.redis._scripts import (
    DELIVER,
    GROUP_ADD,
    GROUP_DISCARD,
    GROUP_ROUTES,
    channel_key,
    counts_key,
    gone_key,
    group_key,
    inbox_key,
)
from chanx.redis._settings import Settings
from chanx.redis._state import LoopState

__all__ = ["Groups"]

# (shard index, cluster slot name or "") -> (keys, delivery specs) of one DELIVER call
Batches = dict[tuple[int, str], tuple[list[str], list[Any]]]


class Groups:
    """One layer's groups: ``group_add``/``group_discard``/``group_send`` below the checks.

    ``memberships`` is the process's own table, the truth for its own channels (see
    _keeper): a group message reaches them whatever Redis holds.
    """

    def __init__(self, *, prefix: str, group_expiry: float, settings: Settings) -> None:
        self.prefix = prefix
        self.group_expiry = group_expiry
        self.settings = settings
        self.memberships: Memberships = {}

    async def add(self, state: LoopState, group: str, channel: str, *, local: bool) -> None:
        now = time.time()
        await state.shard_for(group).run_script(
            GROUP_ADD,
            [group_key(self.prefix, group), gone_key(self.prefix, group)],
            [now, channel, int(self.group_expiry) + 1],
        )
        if local:
            self.memberships.setdefault(group, {})[channel] = now

    async def discard(self, state: LoopState, group: str, channel: str, *, local: bool) -> None:
        members = self.memberships.get(group)
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self.memberships[group]
        # Removing another process's channel leaves a note, so its owner does not restore it.
        await state.shard_for(group).run_script(
            GROUP_DISCARD,
            [group_key(self.prefix, group), gone_key(self.prefix, group)],
            [time.time(), channel, int(self.group_expiry) + 1, 0 if local else 1],
        )

    async def send(self, state: LoopState, group: str, payload: bytes) -> None:
        """Deliver ``payload`` to every member; full members are skipped and reported."""
        stats = self.settings.stats
        shard = state.shard_for(group)
        now_ms = int(time.time() * 1000)
        cutoff = time.time() - self.group_expiry
        head = [now_ms, self.settings.expiry_ms, payload]
        stats.group_sends += 1
        # This process's own members come from its own table, whatever Redis holds (it may
        # have lost them), and get the message in-process first: everything this process
        # sends to one of its own channels keeps its order, whichever method sent it.
        local = local_members(self.memberships, state, group, cutoff)
        delivered, dropped = self._deliver_here(state, local, payload)
        try:
            # Every key a script touches is named in its KEYS (Redis Cluster and ACL key
            # patterns need that), so the members are read first and delivered to in a
            # second call: one per shard, or one per destination slot on a cluster.
            routes, plain = await shard.run_script(
                GROUP_ROUTES, [group_key(self.prefix, group)], [cutoff]
            )
            remote: dict[str, str] = {}
            others: list[str] = []  # channels of this loop (another process may add them)
            for at in range(0, len(routes), 2):
                inbox, suffixes = routes[at].decode(), routes[at + 1].decode()
                if inbox in state.inboxes:
                    others.extend(f"{inbox}!{suffix}" for suffix in suffixes.split(","))
                else:
                    remote[inbox] = suffixes
            lists = [channel.decode() for channel in plain]
            if remote or lists:
                sent, full = await self._deliver_to(state, remote, lists, head)
                delivered, dropped = delivered + sent, dropped + full
            # Channels of this loop that another process added to the group.
            here = [m for m in others if m not in local]
            sent, full = self._deliver_here(state, here, payload)
            delivered, dropped = delivered + sent, dropped + full
        finally:
            stats.group_deliveries += delivered
            stats.group_drops += dropped
            if dropped:
                self.settings.reporter.occurrence(
                    "group_drop",
                    now_ms / 1000,
                    f"group_send to {group!r} skipped {dropped} full member(s) (their readers "
                    "are slower than the messages come)",
                    subject=group,
                )

    def _deliver_here(
        self, state: LoopState, members: Collection[str], payload: bytes
    ) -> tuple[int, int]:
        """Hand a group message to channels this loop reads; return (delivered, dropped)."""
        if not members:
            return 0, 0
        # Decoding our own bytes gives each receiver the copy another process would get.
        copy = self.settings.serializer.loads(payload)
        capacity_for = self.settings.capacity_for
        delivered = 0
        for member in members:
            inbox, _, suffix = member.partition("!")
            delivered += state.inboxes[inbox].deliver_local(suffix, copy, capacity_for(member))
        return delivered, len(members) - delivered

    async def _deliver_to(
        self, state: LoopState, inboxes: dict[str, str], lists: list[str], head: list[Any]
    ) -> tuple[int, int]:
        """Deliver one payload: a script call per shard (per slot on a cluster).

        Each inbox (mapped to its members' comma-separated suffixes) gets the message once,
        naming its members; its reader skips the full ones. Plain channels are capped here.
        """
        batches: Batches = {}
        for inbox, suffixes in inboxes.items():
            live = 0 if state.shard_for(inbox).is_cluster else 1
            keys = [inbox_key(self.prefix, inbox), counts_key(self.prefix, inbox)]
            _batch(state, batches, inbox, keys, ["g", live, suffixes])
        for channel in lists:
            spec = ["l", self.settings.capacity_for(channel)]
            _batch(state, batches, channel, [channel_key(self.prefix, channel)], spec)
        results = await asyncio.gather(
            *(
                state.shards[index].run_script(DELIVER, keys, [*head, *spec])
                for (index, _), (keys, spec) in batches.items()
            )
        )
        return sum(int(r[0]) for r in results), sum(int(r[1]) for r in results)


def _batch(state: LoopState, batches: Batches, name: str, keys: list[str], spec: list[Any]) -> None:
    index = state.ring.index(name)
    # A cluster runs a script on one slot only, so every destination is its own batch.
    slot = name if state.shards[index].is_cluster else ""
    batch_keys, batch_spec = batches.setdefault((index, slot), ([], []))
    batch_keys.extend(keys)
    batch_spec.extend(spec)
