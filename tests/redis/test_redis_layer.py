"""Behaviour of chanx's Redis layer beyond the conformance suite."""

from __future__ import annotations

import asyncio
import enum
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from asgiref.sync import async_to_sync

from chanx.core.layers import ChannelFull, ChannelLayer
from chanx.redis import (
    JsonSerializer,
    MsgpackSerializer,
    RedisChannelLayer,
)
from chanx.redis._connection import HashRing, parse_hosts, parse_url

pytestmark = pytest.mark.redis


def _prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def layer(redis_url: str) -> AsyncIterator[RedisChannelLayer]:
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), capacity=5)
    yield layer
    await layer.flush()
    await layer.close()


def test_layer_satisfies_the_protocol() -> None:
    assert isinstance(RedisChannelLayer(), ChannelLayer)
    assert RedisChannelLayer.extensions == ["groups", "flush"]


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (None, [{"address": "redis://127.0.0.1:6379/0"}]),
        ([("10.0.0.1", 6380)], [{"host": "10.0.0.1", "port": 6380}]),
        (["redis://h:1/2"], [{"address": "redis://h:1/2"}]),
        (
            [{"address": "rediss://h:1", "ssl_cert_reqs": None}],
            [{"address": "rediss://h:1", "ssl_cert_reqs": None}],
        ),
    ],
)
def test_hosts_forms(hosts: Any, expected: list[dict[str, Any]]) -> None:
    assert parse_hosts(hosts) == expected


@pytest.mark.parametrize("hosts", ["redis://h:1", [], [42], [("h",)]])
def test_bad_hosts_name_the_value(hosts: Any) -> None:
    with pytest.raises(TypeError, match="but got"):
        parse_hosts(hosts)


def test_urls() -> None:
    assert parse_url("redis://:pw@h:6379/3?capacity=7&prefix=p") == (
        [{"address": "redis://:pw@h:6379/3"}],
        {"capacity": 7, "prefix": "p"},
    )
    assert parse_url("rediss://h:6380")[0] == [{"address": "rediss://h:6380"}]
    # "unix:///path" keeps its slashes (redis-py 8.2 refuses "unix:/path"), and the query
    # options left for redis-py stay encoded.
    assert parse_url("unix:///run/redis.sock?db=2&capacity=3&password=a%26b") == (
        [{"address": "unix:///run/redis.sock?db=2&password=a%26b"}],
        {"capacity": 3},
    )
    hosts, _ = parse_url("redis+sentinel://:secret@s1:26379,s2/mymaster/2")
    assert hosts == [
        {
            "sentinels": [("s1", 26379), ("s2", 26379)],
            "master_name": "mymaster",
            "password": "secret",
            "db": 2,
        }
    ]
    hosts, options = parse_url("redis+cluster://n1:7000,n2:7001?expiry=5")
    assert hosts == [{"cluster_nodes": [("n1", 7000), ("n2", 7001)]}]
    assert options == {"expiry": 5}
    with pytest.raises(ValueError, match="but got 'amqp://h'"):
        parse_url("amqp://h")
    with pytest.raises(ValueError, match="service_name"):
        parse_url("redis+sentinel://s1:26379")


def test_options_are_checked() -> None:
    with pytest.raises(TypeError, match="prefix"):
        RedisChannelLayer(prefix="bad prefix{")
    with pytest.raises(ValueError, match="capacity"):
        RedisChannelLayer(capacity=0)
    with pytest.raises(ValueError, match="'yaml'"):
        RedisChannelLayer(serializer="yaml")
    assert isinstance(RedisChannelLayer(serializer="json").serializer, JsonSerializer)
    assert isinstance(RedisChannelLayer().serializer, MsgpackSerializer)


def test_channel_capacity_patterns() -> None:
    import re

    layer = RedisChannelLayer(
        capacity=3, channel_capacity={"http.*": 50, re.compile(r"^big\."): 1000}
    )
    assert layer.capacity_for("http.request") == 50
    assert layer.capacity_for("big.one") == 1000
    assert layer.capacity_for("other") == 3


def test_hash_ring_is_stable_and_spreads() -> None:
    ring = HashRing(4)
    names = [f"group-{index}" for index in range(4000)]
    owners = [ring.index(name) for name in names]
    assert owners == [HashRing(4).index(name) for name in names]
    assert all(600 < owners.count(shard) < 1400 for shard in range(4))
    # Adding a shard moves only the names it takes over.
    grown = HashRing(5)
    moved = sum(
        1 for name, owner in zip(names, owners, strict=True) if grown.index(name) not in (owner, 4)
    )
    assert moved == 0


async def test_stats_count_sends_drops_and_full_channels(layer: RedisChannelLayer) -> None:
    full, free = await layer.new_channel(), await layer.new_channel()
    for channel in (full, free):
        await layer.group_add("stats-group", channel)
    for index in range(5):
        await layer.send(full, {"type": "m", "index": index})
    with pytest.raises(ChannelFull, match="capacity of 5"):
        await layer.send(full, {"type": "m"})
    await layer.group_send("stats-group", {"type": "broadcast"})
    stats = layer.stats.as_dict()
    assert stats["sent"] == 5
    assert stats["channel_full"] == 1
    assert stats["group_sends"] == 1
    assert stats["group_deliveries"] == 1
    assert stats["group_drops"] == 1
    with anyio.fail_after(5):
        assert await layer.receive(free) == {"type": "broadcast"}


async def test_group_message_is_published_once_per_process(
    layer: RedisChannelLayer, redis_url: str
) -> None:
    members = [await layer.new_channel() for _ in range(50)]
    for channel in members:
        await layer.group_add("fanout", channel)
    # Sent from another instance, as another process would.
    other = RedisChannelLayer.from_url(redis_url, prefix=layer.prefix)
    try:
        await other.group_send("fanout", {"type": "hello"})
    finally:
        await other.close()
    with anyio.fail_after(5):
        received = [await layer.receive(channel) for channel in members]
    assert received == [{"type": "hello"}] * 50
    # All 50 arrived through one inbox entry: the layer decoded one message object.
    assert len({id(message) for message in received}) == 1


async def test_thousand_concurrent_consumers(redis_url: str) -> None:
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), pool_size=20)
    try:
        channels = [await layer.new_channel() for _ in range(1000)]
        normal = [f"normal-{index}" for index in range(1000)]
        for channel in channels:
            await layer.group_add("everyone", channel)
        got: list[int] = []

        async def consume(channel: str) -> None:
            got.append((await layer.receive(channel))["n"])

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tasks:
                for channel in channels + normal:
                    tasks.start_soon(consume, channel)
                await anyio.wait_all_tasks_blocked()
                await layer.group_send("everyone", {"type": "x", "n": 1})
                async with anyio.create_task_group() as senders:
                    for channel in normal:
                        senders.start_soon(layer.send, channel, {"type": "x", "n": 2})
        assert sorted(got) == [1] * 1000 + [2] * 1000
    finally:
        await layer.flush()
        await layer.close()


async def test_sharded_hosts_deliver_groups_and_sends(redis_url: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    hosts = [f"{base}/{db}" for db in (1, 2, 3)]
    layer = RedisChannelLayer(hosts, prefix=_prefix(), channel_capacity={"capped.*": 1})
    try:
        channels = [await layer.new_channel(f"p{index}.") for index in range(6)]
        plain = [f"plain-{index}" for index in range(6)]
        for channel in channels + plain:
            await layer.group_add(f"g{len(channel) % 3}", channel)
            await layer.group_add("all", channel)
        await layer.group_send("all", {"type": "all"})
        with anyio.fail_after(10):
            for channel in channels + plain:
                assert await layer.receive(channel) == {"type": "all"}
        await layer.send("capped.one", {"type": "a"})
        with pytest.raises(ChannelFull):
            await layer.send("capped.one", {"type": "b"})
        used = {
            layer._ring.index(name)
            for name in ["all", *plain, *(c.partition("!")[0] for c in channels)]
        }
        assert len(used) > 1  # the names really were spread over shards
    finally:
        await layer.flush()
        await layer.close()


async def test_process_specific_channel_of_another_instance(redis_url: str) -> None:
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    try:
        mine = await one.new_channel()
        await two.send(mine, {"type": "from-two"})
        await two.group_add("pair", mine)
        await two.group_send("pair", {"type": "group-from-two"})
        with anyio.fail_after(5):
            assert await one.receive(mine) == {"type": "from-two"}
            assert await one.receive(mine) == {"type": "group-from-two"}
    finally:
        await one.flush()
        await one.close()
        await two.close()


async def test_an_enum_group_name_is_its_value_in_other_processes(redis_url: str) -> None:
    # (str, Enum) members format as "Room.LOBBY": keys built from them in an f-string would
    # name another group than the plain "lobby" another process sends to.
    class Room(str, enum.Enum):  # noqa: UP042 - not StrEnum: its members format as values
        LOBBY = "lobby"

    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    try:
        mine = await one.new_channel()
        await one.group_add(Room.LOBBY, mine)
        await two.group_send("lobby", {"type": "plain-from-two"})
        await two.group_send(Room.LOBBY, {"type": "enum-from-two"})
        with anyio.fail_after(5):
            assert await one.receive(mine) == {"type": "plain-from-two"}
            assert await one.receive(mine) == {"type": "enum-from-two"}
    finally:
        await one.flush()
        await one.close()
        await two.close()


def test_async_to_sync_from_plain_threads(redis_url: str) -> None:
    """Django views call the layer through async_to_sync: a fresh loop per call."""
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix())

    async def scenario() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add("sync-group", channel)
        thread = threading.Thread(
            target=async_to_sync(layer.group_send), args=("sync-group", {"type": "from-sync"})
        )
        thread.start()
        try:
            with anyio.fail_after(5):
                return await layer.receive(channel)
        finally:
            await asyncio.to_thread(thread.join, 5)

    async def cleanup() -> None:
        await layer.flush()
        await layer.close()

    try:
        assert asyncio.run(scenario()) == {"type": "from-sync"}
        async_to_sync(layer.send)("sync-normal", {"type": "plain"})
    finally:
        asyncio.run(cleanup())


def test_an_unclosed_loop_state_is_closed_with_its_loop(redis_url: str) -> None:
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix())

    async def use_without_close() -> None:
        await layer.new_channel()
        await layer.send("left-open", {"type": "x"})

    asyncio.run(use_without_close())  # must not leave tasks or sockets behind (warnings fail)
    assert not layer._states


async def test_expired_entries_free_capacity_on_normal_channels(redis_url: str) -> None:
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), capacity=2, expiry=0.2)
    try:
        await layer.send("short-lived", {"type": "old"})
        await layer.send("short-lived", {"type": "old"})
        await anyio.sleep(0.4)
        await layer.send("short-lived", {"type": "new"})  # the two old ones no longer count
        with anyio.fail_after(5):
            assert await layer.receive("short-lived") == {"type": "new"}
        assert layer.stats.expired == 0  # dropped inside Redis before any receive
    finally:
        await layer.flush()
        await layer.close()


async def test_closed_layer_can_be_used_again(layer: RedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.close()
    await layer.send(channel, {"type": "again"})
    with anyio.fail_after(5):
        assert await layer.receive(channel) == {"type": "again"}


async def test_capacity_across_processes(redis_url: str) -> None:
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=5)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=5)
    try:
        channel, free = await one.new_channel(), await one.new_channel()
        await two.group_add("cross", channel)
        await two.group_add("cross", free)
        for index in range(5):
            await two.send(channel, {"type": "m", "index": index})
        with pytest.raises(ChannelFull):
            await two.send(channel, {"type": "m"})
        await two.group_send("cross", {"type": "g"})
        # Both members' channels are read by `one`: it receives the group message once and
        # skips the full channel itself.
        assert (two.stats.group_deliveries, two.stats.group_drops) == (2, 0)
        with anyio.fail_after(5):
            assert await one.receive(free) == {"type": "g"}
            assert one.stats.group_drops == 1
            assert (await one.receive(channel))["index"] == 0
        # The receive releases capacity in Redis within one ledger flush.
        await one._state().inboxes[channel.partition("!")[0]].ledger.settle()
        await two.send(channel, {"type": "m", "index": 5})
        with anyio.fail_after(5):
            assert [(await one.receive(channel))["index"] for _ in range(5)] == [1, 2, 3, 4, 5]
    finally:
        await one.flush()
        await one.close()
        await two.close()


async def test_own_sends_keep_their_order_across_methods(layer: RedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("ordered", channel)
    for index in range(5):  # the fixture's capacity
        if index % 2:
            await layer.group_send("ordered", {"type": "m", "index": index})
        else:
            await layer.send(channel, {"type": "m", "index": index})
    with anyio.fail_after(5):
        assert [(await layer.receive(channel))["index"] for _ in range(5)] == list(range(5))


async def test_messages_queued_before_the_subscription_come_first(redis_url: str) -> None:
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=1000)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=1000)
    try:
        mine = await one.new_channel()  # its reader subscribes while two is already sending
        for index in range(200):
            await two.send(mine, {"type": "tick", "index": index})
        with anyio.fail_after(5):
            assert [(await one.receive(mine))["index"] for _ in range(200)] == list(range(200))
        # Subscribed: the next message is published to the reader, not queued in Redis.
        await two.send(mine, {"type": "tick", "index": 200})
        with anyio.fail_after(5):
            assert (await one.receive(mine))["index"] == 200
        inbox = mine.partition("!")[0]
        assert await one._state().shards[0].execute("LLEN", f"{prefix}:in:{{{inbox}}}") == 0
    finally:
        await one.flush()
        await one.close()
        await two.close()


async def test_group_messages_to_a_silent_inbox_keep_only_live_ones(redis_url: str) -> None:
    from chanx.redis._scripts import encode_entry, inbox_key, split_entry

    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2, expiry=30)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2, expiry=30)
    try:
        channel = await one.new_channel()
        inbox, _, suffix = channel.partition("!")
        await one.group_add("silent", channel)
        await one.close()  # nobody reads the inbox now: group messages wait in Redis
        shard = two._state().shards[0]
        key = inbox_key(prefix, inbox)
        await shard.execute("RPUSH", key, encode_entry(two._now_ms() - 31_000, b"stale"))
        for index in range(3):
            await two.group_send("silent", {"type": "g", "index": index})
        # The stale entry went when the first group message was queued behind it.
        entries = [split_entry(entry) for entry in await shard.execute("LRANGE", key, 0, -1)]
        assert [(names, grouped) for _, names, _, grouped in entries] == [([suffix], True)] * 3
        assert two.stats.group_drops == 0
        # Reading again, `one` applies the capacity (2) to what waited for it.
        with anyio.fail_after(5):
            assert [(await one.receive(channel))["index"] for _ in range(2)] == [0, 1]
        assert one.stats.group_drops == 1
    finally:
        await one.flush()
        await one.close()
        await two.close()


def test_the_layer_runs_under_uvloop(redis_url: str) -> None:
    # uvicorn picks uvloop when it is installed; its transports are not asyncio.Transport.
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed")

    async def main() -> None:
        prefix = _prefix()
        one = RedisChannelLayer.from_url(redis_url, prefix=prefix)
        two = RedisChannelLayer.from_url(redis_url, prefix=prefix)
        try:
            channel = await one.new_channel()
            await one.group_add("uv", channel)
            await two.send(channel, {"type": "direct"})
            await two.group_send("uv", {"type": "group"})
            async with asyncio.timeout(5):
                assert await one.receive(channel) == {"type": "direct"}
                assert await one.receive(channel) == {"type": "group"}
        finally:
            await one.flush()
            await one.close()
            await two.close()

    uvloop.run(main())


def test_messages_taken_in_by_a_closed_loop_wait_for_the_next_one(redis_url: str) -> None:
    # Django's async_to_sync gives every call an event loop of its own. The first loop's
    # reader takes in both messages of the shared inbox; closing that loop must not lose the
    # one it did not hand out (this hung channels_redis's own test_double_receive).
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix())

    async def send_then_close(channel: str, kind: str) -> None:
        await layer.send(channel, {"type": kind})
        await layer.close()

    async def receive_then_close(channel: str) -> str:
        try:
            async with asyncio.timeout(5):
                return str((await layer.receive(channel))["type"])
        finally:
            await layer.close()

    first = async_to_sync(layer.new_channel)()
    second = async_to_sync(layer.new_channel)()
    async_to_sync(send_then_close)(first, "one")
    async_to_sync(send_then_close)(second, "two")
    assert async_to_sync(receive_then_close)(second) == "two"
    assert async_to_sync(receive_then_close)(first) == "one"
    async_to_sync(layer.flush)()


async def test_receiving_on_another_process_channel_is_refused(
    layer: RedisChannelLayer,
) -> None:
    with pytest.raises(ValueError, match="made by this layer"):
        await layer.receive("specific.someone-else!abc")
    # channels_redis raises AssertionError there; code written for it may catch that.
    with pytest.raises(AssertionError, match="made by this layer"):
        await layer.receive("specific.someone-else!abc")


async def test_channels_redis_names_for_closing_and_the_client_prefix(redis_url: str) -> None:
    # Code written against channels_redis calls close_pools() and reads client_prefix.
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix())
    channel = await layer.new_channel()
    assert channel.partition("!")[0].endswith(layer.client_prefix)
    assert layer.client_prefix != RedisChannelLayer.from_url(redis_url).client_prefix
    await layer.send(channel, {"type": "hello"})
    assert (await layer.receive(channel))["type"] == "hello"
    await layer.close_pools()
    await layer.send(channel, {"type": "again"})  # a closed loop's state is made afresh
    assert (await layer.receive(channel))["type"] == "again"
    await layer.flush()
    await layer.close_pools()
