"""A Sentinel failover under a live layer: the master dies, a replica takes over.

Private servers (master, replica, one sentinel with quorum 1), always killed; every wait is
bounded.
"""

from __future__ import annotations

import uuid

import anyio
import pytest
from redis.exceptions import RedisError

from chanx.redis import RedisChannelLayer

from ._servers import RedisProcess, SentinelProcess, cli, free_port, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_the_layer_follows_a_failover(tmp_path_factory: pytest.TempPathFactory) -> None:
    master = RedisProcess(free_port(), tmp_path_factory.mktemp("master"))
    replica = RedisProcess(
        free_port(),
        tmp_path_factory.mktemp("replica"),
        ["--replicaof", "127.0.0.1", str(master.port)],
    )
    sentinel = SentinelProcess(tmp_path_factory.mktemp("sentinel"), master.port, down_after_ms=500)
    layer: RedisChannelLayer | None = None
    try:
        master.start()
        replica.start()
        wait_until(
            lambda: "master_link_status:up" in cli(replica.port, "info", "replication"),
            timeout=20,
            what="the replica syncing with its master",
        )
        sentinel.start()
        wait_until(
            lambda: str(replica.port) in cli(sentinel.port, "sentinel", "replicas", "chanxmaster"),
            timeout=20,
            what="the sentinel finding the replica",
        )
        layer = RedisChannelLayer.from_url(sentinel.url, prefix=f"test-{uuid.uuid4().hex[:8]}")
        channel = await layer.new_channel()
        await layer.group_add("failover", channel)
        await layer.send("plain", {"type": "before"})
        with anyio.fail_after(5):
            assert await layer.receive("plain") == {"type": "before"}

        master.kill()
        await anyio.to_thread.run_sync(
            lambda: wait_until(
                lambda: sentinel.master_port() == replica.port,
                timeout=30,
                what="the sentinel promoting the replica",
            )
        )
        # Commands fail until redis-py asks the sentinel again; then the new master answers.
        with anyio.fail_after(30):
            while True:
                try:
                    await layer.send("plain", {"type": "after"})
                    break
                except (RedisError, OSError):
                    await anyio.sleep(0.2)  # a retry's pause, not a wait for another task
            assert await layer.receive("plain") == {"type": "after"}
            # From another instance (as another process would), so the message goes through
            # the new master and this layer's inbox reader, which has reconnected by itself.
            # The membership was replicated, and the reader restores it anyway.
            other = RedisChannelLayer.from_url(sentinel.url, prefix=layer.prefix)
            try:
                await other.group_send("failover", {"type": "group after"})
            finally:
                await other.close()
            assert await layer.receive(channel) == {"type": "group after"}
        assert layer.stats.disconnects >= 1
        assert layer.stats.reconnects >= 1
    finally:
        if layer is not None:
            await layer.close()
        sentinel.kill()
        replica.kill()
        master.kill()
