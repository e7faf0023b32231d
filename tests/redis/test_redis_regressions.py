"""Regressions of the Redis layer seen in review (issue 13, items 4, 6 and 7)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

import chanx.redis._connection as connection_module
import chanx.redis._scripts as scripts
from chanx.core.layers import ChannelFull
from chanx.redis import RedisChannelLayer
from chanx.redis._connection import Shard
from chanx.redis._scripts import channel_key, counts_key, inbox_key

from ._servers import RedisProcess, free_port

pytestmark = pytest.mark.redis


def _prefix() -> str:
    return f"reg-{uuid.uuid4().hex[:8]}"


async def test_trimming_expired_sends_gives_their_capacity_back(redis_url: str) -> None:
    # Item 6: push_group dropped expired entries from a silent inbox without undoing the
    # capacity counts of the ones `send` had counted, so remote senders saw the channel full.
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2, expiry=30)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2, expiry=30)
    try:
        channel = await one.new_channel()
        inbox, _, suffix = channel.partition("!")
        await one.group_add("quiet", channel)
        await one.close()  # nobody reads the inbox: messages wait in its Redis list
        shard = two._state().shards[0]
        for index in range(2):
            await two.send(channel, {"type": "m", "index": index})
        with pytest.raises(ChannelFull):
            await two.send(channel, {"type": "m", "index": 2})
        # Age both counted entries past the expiry, as if 31 s had gone by.
        key = inbox_key(prefix, inbox)
        for position, entry in enumerate(await shard.execute("LRANGE", key, 0, -1)):
            _, rest = entry.split(b"\x00", 1)
            await shard.execute("LSET", key, position, b"%d\x00%b" % (two._now_ms() - 31_000, rest))
        await two.group_send("quiet", {"type": "g"})  # queues behind them, trimming them
        assert await shard.execute("HGET", counts_key(prefix, inbox), suffix) is None
        await two.send(channel, {"type": "m", "index": 3})  # room again: no ChannelFull
    finally:
        await two.flush()
        await two.close()


async def test_group_send_names_every_key_it_touches(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Item 7: the single-server GROUP_SEND script built inbox and list keys from ARGV, which
    # Redis Cluster and key-based ACLs cannot see. Every script call names its keys now.
    calls: list[tuple[str, list[str]]] = []
    original = Shard.run_script

    async def recording(self: Shard, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        calls.append((source, list(keys)))
        return await original(self, source, keys, args)

    monkeypatch.setattr(Shard, "run_script", recording)
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    try:
        first, second = await one.new_channel(), await one.new_channel()
        for channel in (first, second, "plain.channel"):
            await two.group_add("room", channel)
        calls.clear()
        await two.group_send("room", {"type": "g"})
        inbox = first.partition("!")[0]
        touched = {key for _, call_keys in calls for key in call_keys}
        assert touched == {
            f"{prefix}:gr:{{room}}",
            inbox_key(prefix, inbox),
            counts_key(prefix, inbox),
            channel_key(prefix, "plain.channel"),
        }
        with anyio.fail_after(5):
            assert await one.receive(first) == {"type": "g"}
            assert await one.receive(second) == {"type": "g"}
            assert await one.receive("plain.channel") == {"type": "g"}
    finally:
        await one.flush()
        await one.close()
        await two.close()
    # No script assembles a key name itself.
    assert not hasattr(scripts, "GROUP_SEND")
    for name in scripts.__all__:
        source = getattr(scripts, name)
        if isinstance(source, str):
            assert ":in:{" not in source
            assert ":ch:{" not in source


@pytest.mark.slow
@pytest.mark.parametrize("lean", [True, False], ids=["own-connection", "redis-py"])
async def test_a_command_during_a_short_restart_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lean: bool
) -> None:
    # Item 4: a synchronous redis.retry.Retry on an asyncio client retried nothing under
    # redis-py 8.2 (and warned). Commands now ride out an outage shorter than ~0.55 s.
    if not lean:
        monkeypatch.setattr(connection_module, "lean_endpoint", lambda spec: None)
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    layer = RedisChannelLayer.from_url(f"redis://127.0.0.1:{server.port}/0", prefix=_prefix())
    restarter: threading.Thread | None = None
    try:
        await layer.send("plain.channel", {"type": "before"})
        assert layer._state().shards[0].lean is lean
        server.kill()
        await anyio.sleep(0.05)  # the layer's connections see the close

        def restart() -> None:
            time.sleep(0.1)
            server.start()

        restarter = threading.Thread(target=restart)
        restarter.start()
        with anyio.fail_after(10):
            await layer.group_add("room", "plain.channel")  # no ConnectionError: retried
    finally:
        if restarter is not None:
            restarter.join(timeout=15)
        await layer.close()
        server.kill()


async def test_close_does_not_wait_for_the_keepers_next_round(redis_url: str) -> None:
    # close() cancelled the keeper during its first round (it starts with the first
    # group_add); redis-py swallowed that cancellation, so the keeper slept out a whole
    # interval (5 s with expiry=30) before it looked for it again, and close() waited too.
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), expiry=30)
    channel = await layer.new_channel()
    await layer.group_add("brief", channel)
    try:
        with anyio.fail_after(2):
            await layer.close()
    finally:
        await layer.flush()
        await layer.close()
