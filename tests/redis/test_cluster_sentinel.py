"""The conformance suite against a 3-master Redis Cluster and a Sentinel-managed master.

Both run on private ports, started here and always killed; every wait is bounded.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from chanx.redis import RedisChannelLayer
from chanx.testing.layers import ChannelLayerConformance

from ._servers import (
    RedisProcess,
    SentinelProcess,
    cli,
    free_port,
    require_binary,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_binary("redis-cli")
    ports = [free_port(cluster_bus=True) for _ in range(3)]
    servers = []
    try:
        for port in ports:
            workdir = tmp_path_factory.mktemp(f"cluster-{port}")
            server = RedisProcess(
                port,
                workdir,
                [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(workdir / "nodes.conf"),
                    "--cluster-node-timeout",
                    "2000",
                ],
            )
            servers.append(server)
            server.start()
        nodes = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run(
            [
                require_binary("redis-cli"),
                "--cluster",
                "create",
                *nodes,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            timeout=60,
            check=True,
        )
        wait_until(
            lambda: all("cluster_state:ok" in cli(port, "cluster", "info") for port in ports),
            timeout=30,
            what="cluster_state:ok on every node",
        )
        yield "redis+cluster://" + ",".join(nodes)
    finally:
        for server in servers:
            server.kill()


@pytest.fixture(scope="module")
def sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    master = RedisProcess(free_port(), tmp_path_factory.mktemp("master"))
    sentinel = SentinelProcess(tmp_path_factory.mktemp("sentinel"), master.port, down_after_ms=5000)
    try:
        master.start()
        sentinel.start()
        yield sentinel.url
    finally:
        sentinel.kill()
        master.kill()


async def _fresh(url: str) -> RedisChannelLayer:
    layer = RedisChannelLayer.from_url(
        url, prefix=f"test-{uuid.uuid4().hex[:8]}", capacity=10, expiry=1, group_expiry=1
    )
    await layer.flush()
    return layer


class TestRedisClusterLayer(ChannelLayerConformance):
    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self, cluster_url: str) -> AsyncIterator[Any]:
        layer = await _fresh(cluster_url)
        yield layer
        await layer.flush()
        await layer.close()


class TestRedisSentinelLayer(ChannelLayerConformance):
    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self, sentinel_url: str) -> AsyncIterator[Any]:
        layer = await _fresh(sentinel_url)
        yield layer
        await layer.flush()
        await layer.close()


async def test_cluster_group_spans_slots_and_instances(cluster_url: str) -> None:
    one = await _fresh(cluster_url)
    two = RedisChannelLayer.from_url(cluster_url, prefix=one.prefix)
    try:
        mine = [await one.new_channel(f"a{index}.") for index in range(4)]
        theirs = [await two.new_channel(f"b{index}.") for index in range(4)]
        plain = [f"plain-{index}" for index in range(4)]
        for channel in mine + theirs + plain:
            await one.group_add("spread", channel)
        await two.group_send("spread", {"type": "all"})
        with anyio.fail_after(10):
            for channel in mine + plain:
                assert await one.receive(channel) == {"type": "all"}
            for channel in theirs:
                assert await two.receive(channel) == {"type": "all"}
        assert two.stats.group_deliveries == 12
    finally:
        await one.flush()
        await one.close()
        await two.close()


def test_cluster_keys_of_an_inbox_share_a_slot(cluster_url: str) -> None:
    from chanx.redis._scripts import counts_key, inbox_key

    port = int(cluster_url.split(":")[-1])
    slots = {
        cli(port, "cluster", "keyslot", key)
        for key in (inbox_key("asgi", "specific.x1"), counts_key("asgi", "specific.x1"))
    }
    assert len(slots) == 1


@pytest.mark.parametrize("topology", ["cluster", "sentinel"])
async def test_memberships_heal_on_cluster_and_sentinel(
    request: pytest.FixtureRequest, topology: str
) -> None:
    # Issue 13, items 1-3: Redis forgetting a group (eviction, restart) left it dead; a
    # live channel expired out of its groups.
    from chanx.redis._scripts import group_key

    url = request.getfixturevalue(f"{topology}_url")
    one = await _fresh(url)  # group_expiry=1: the keeper renews every 0.25 s
    two = RedisChannelLayer.from_url(url, prefix=one.prefix, group_expiry=1)
    try:
        channel = await one.new_channel()
        await one.group_add("heal", channel)
        got: list[Any] = []
        async with anyio.create_task_group() as tasks:

            async def read() -> None:
                while True:
                    got.append(await one.receive(channel))

            tasks.start_soon(read)
            await one._state().shard_for("heal").execute("DEL", group_key(one.prefix, "heal"))
            await one.group_send("heal", {"type": "local"})  # the process's own truth
            with anyio.fail_after(10):
                while one.stats.memberships_restored < 1:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.05)
            await anyio.sleep(1.5)  # outlive group_expiry while receiving
            await two.group_send("heal", {"type": "remote"})
            with anyio.fail_after(10):
                while len(got) < 2:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.02)
            tasks.cancel_scope.cancel()
        assert got == [{"type": "local"}, {"type": "remote"}]
    finally:
        await one.flush()
        await one.close()
        await two.close()
