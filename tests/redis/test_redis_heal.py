"""Memberships heal, live channels never expire, and no loss is silent (issue 13, 1-3, 5)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from importlib.metadata import requires
from typing import Any

import anyio
import pytest

import chanx.redis._connection as connection_module
from chanx.redis import JsonSerializer, MsgpackSerializer, RedisChannelLayer
from chanx.redis._scripts import GROUP_RENEW, group_key

pytestmark = pytest.mark.redis


def _prefix() -> str:
    return f"heal-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=[True, False], ids=["own-connection", "redis-py"])
def lean(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if not request.param:
        monkeypatch.setattr(connection_module, "lean_endpoint", lambda spec: None)
    return bool(request.param)


@pytest.fixture
async def pair(redis_url: str, lean: bool) -> AsyncIterator[tuple[RedisChannelLayer, ...]]:
    """Two layers on one prefix: two processes, in effect; the first heals every 0.2 s."""
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, heal_interval=0.2)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix)
    yield one, two
    await one.flush()
    await one.close()
    await two.close()


async def _eventually(check: Callable[[], object], within: float) -> None:
    with anyio.fail_after(within):
        while not check():  # noqa: ASYNC110 - polls layer state, bounded by fail_after
            await anyio.sleep(0.02)


async def test_local_members_get_group_messages_whatever_redis_holds(
    pair: tuple[RedisChannelLayer, ...],
) -> None:
    # Item 2: after Redis forgot the memberships, group_send found no members, even those
    # the sending process itself holds.
    one, _ = pair
    channel = await one.new_channel()
    await one.group_add("room", channel)
    await one._state().shards[0].execute("DEL", group_key(one.prefix, "room"))
    await one.group_send("room", {"type": "g"})
    with anyio.fail_after(2):
        assert await one.receive(channel) == {"type": "g"}


async def test_lost_memberships_come_back_and_are_reported(
    pair: tuple[RedisChannelLayer, ...], caplog: pytest.LogCaptureFixture
) -> None:
    # Items 1 and 2: a membership Redis lost (eviction, restart) stayed lost for good.
    one, two = pair
    channel = await one.new_channel()
    await one.group_add("room", channel)
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    await one._state().shards[0].execute("DEL", group_key(one.prefix, "room"))
    await _eventually(lambda: one.stats.memberships_restored >= 1, within=3)
    await two.group_send("room", {"type": "g"})
    with anyio.fail_after(2):
        assert await one.receive(channel) == {"type": "g"}
    [incident] = [i for i in one.stats.incidents if i.cause == "memberships_lost"]
    assert incident.count == 1
    assert incident.start <= incident.end
    lines = [r.getMessage() for r in caplog.records if "memberships_lost" in r.getMessage()]
    assert len(lines) == 1
    assert "window" in lines[0]


async def test_a_live_receiver_keeps_its_groups_past_group_expiry(
    redis_url: str, lean: bool
) -> None:
    # Item 3: memberships were never renewed, so a socket open longer than group_expiry
    # silently stopped receiving broadcasts.
    prefix = _prefix()
    one = RedisChannelLayer.from_url(redis_url, prefix=prefix, group_expiry=1)
    two = RedisChannelLayer.from_url(redis_url, prefix=prefix, group_expiry=1)
    try:
        live, unread = await one.new_channel(), await one.new_channel()
        for channel in (live, unread):
            await one.group_add("room", channel)
        got: list[dict[str, object]] = []
        async with anyio.create_task_group() as tasks:

            async def read() -> None:
                got.append(await one.receive(live))

            tasks.start_soon(read)
            await anyio.sleep(2)  # time passing is the point: twice group_expiry
            await two.group_send("room", {"type": "late"})
            await _eventually(lambda: got, within=2)
        assert got == [{"type": "late"}]
        # Nobody ever read `unread`: its membership expired as the Channels spec says.
        await one.send(unread, {"type": "marker"})
        with anyio.fail_after(2):
            assert await one.receive(unread) == {"type": "marker"}
    finally:
        await one.flush()
        await one.close()
        await two.close()


async def test_a_channel_removed_by_another_process_is_not_restored(
    pair: tuple[RedisChannelLayer, ...],
) -> None:
    one, two = pair
    channel = await one.new_channel()
    await one.group_add("room", channel)
    await two.group_discard("room", channel)  # e.g. a view kicks a user out of a room
    await _eventually(lambda: "room" not in one._groups.memberships, within=3)
    await two.group_send("room", {"type": "g"})
    await one.group_send("room", {"type": "g"})
    await one.send(channel, {"type": "marker"})
    with anyio.fail_after(2):
        assert await one.receive(channel) == {"type": "marker"}
    assert one.stats.memberships_restored == 0


@pytest.mark.parametrize("where", ["inbox", "group", "normal channel"])
async def test_an_undecodable_message_is_counted_logged_and_skipped(
    redis_url: str, lean: bool, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Item 5: one undecodable message killed the inbox reader for good (or, through
    # pub/sub, dropped the connection and its buffer).
    prefix = _prefix()
    reader = RedisChannelLayer.from_url(redis_url, prefix=prefix, serializer="json")
    other = RedisChannelLayer.from_url(redis_url, prefix=prefix, serializer="msgpack")
    same = RedisChannelLayer.from_url(redis_url, prefix=prefix, serializer="json")
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    try:
        channel = "plain.channel" if where == "normal channel" else await reader.new_channel()
        if where == "group":
            await reader.group_add("room", channel)
        for index in range(3):
            if where == "group":
                await other.group_send("room", {"type": "bad", "index": index})
                await same.group_send("room", {"type": "good", "index": index})
            else:
                await other.send(channel, {"type": "bad", "index": index})
                await same.send(channel, {"type": "good", "index": index})
        with anyio.fail_after(5):
            for index in range(3):
                assert await reader.receive(channel) == {"type": "good", "index": index}
        assert reader.stats.undecodable == 3
        lines = [r.getMessage() for r in caplog.records if "could not be decoded" in r.getMessage()]
        assert len(lines) == 1, lines  # one warning per incident, not one per message
        assert "'json' serializer" in lines[0]
        # The reader keeps going.
        await same.send(channel, {"type": "after"})
        with anyio.fail_after(5):
            assert await reader.receive(channel) == {"type": "after"}
    finally:
        await reader.flush()
        for layer in (reader, other, same):
            await layer.close()


def test_the_default_serializer_is_the_same_on_every_machine() -> None:
    # Item 5: the default was msgpack or JSON depending on whether msgspec was installed.
    assert isinstance(RedisChannelLayer().serializer, MsgpackSerializer)
    assert isinstance(RedisChannelLayer(serializer=None).serializer, MsgpackSerializer)
    assert isinstance(RedisChannelLayer(serializer="json").serializer, JsonSerializer)
    assert any(req.startswith("msgspec") for req in requires("chanx-redis") or [])


def test_serializer_and_heal_interval_in_the_url() -> None:
    layer = RedisChannelLayer.from_url("redis://h:6379/0?serializer=json&heal_interval=0.5")
    assert isinstance(layer.serializer, JsonSerializer)
    assert layer.heal_interval == 0.5


def test_heal_interval_stays_well_inside_group_expiry() -> None:
    assert RedisChannelLayer().heal_interval == 5.0
    assert RedisChannelLayer(group_expiry=8).heal_interval == 2.0
    with pytest.raises(ValueError, match="heal_interval"):
        RedisChannelLayer(heal_interval=0)


async def test_full_members_are_reported_once_per_incident(
    redis_url: str, lean: bool, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = _prefix()
    reader = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2)
    sender = RedisChannelLayer.from_url(redis_url, prefix=prefix, capacity=2)
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    try:
        mine, theirs = await reader.new_channel(), await sender.new_channel()
        for channel in (mine, theirs):
            await reader.group_add("room", channel)
        for index in range(5):  # nobody reads: both members fill up after two
            await sender.group_send("room", {"type": "g", "index": index})
        await _eventually(lambda: reader.stats.group_drops == 3, within=5)
        assert sender.stats.group_drops == 3
        for layer in (reader, sender):
            assert [i.cause for i in layer.stats.incidents] == ["group_drop"]
        lines = [r.getMessage() for r in caplog.records if "group_drop" in r.getMessage()]
        assert len(lines) == 2  # one per layer, not one per message
    finally:
        await reader.flush()
        await reader.close()
        await sender.close()


async def test_a_socket_open_longer_than_group_expiry_still_gets_broadcasts(
    redis_url: str,
) -> None:
    # Item 3 as it was seen: pings still worked, broadcasts silently stopped.
    from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
    from chanx.core.layers import register_channel_layer, unregister_channel_layer
    from chanx.testing import WebsocketCommunicator

    class Room(AsyncJsonWebsocketConsumer):
        channel_layer_alias = "heal-test"
        groups = ["lobby"]

        @ws_handler
        async def handle_ping(self, message: PingMessage) -> PongMessage:
            return PongMessage()

    url = f"{redis_url}?group_expiry=1&prefix={_prefix()}"
    layer = RedisChannelLayer.from_url(url)
    other = RedisChannelLayer.from_url(url)  # another process broadcasting
    register_channel_layer("heal-test", layer)
    try:
        async with WebsocketCommunicator(Room.as_asgi(), "/ws") as ws:
            await anyio.sleep(2.5)  # time passing is the point: longer than group_expiry
            await ws.send_json({"action": "ping"})
            assert (await ws.receive_json())["action"] == "pong"
            await other.group_send("lobby", {"type": "chanx.send", "text": '{"action":"x"}'})
            assert await ws.receive_json() == {"action": "x"}
    finally:
        unregister_channel_layer("heal-test")
        await layer.flush()
        await layer.close()
        await other.close()


async def test_a_membership_left_during_a_renewal_is_not_reported_lost(
    redis_url: str, lean: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # A socket leaving while the keeper's renewal script is on its way: the discard reaches
    # Redis first, the renewal writes the membership back, and the keeper took that for a
    # membership Redis had lost ("memberships_lost" under plain churn, no fault at all).
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), heal_interval=3600)
    try:
        channel = await layer.new_channel()
        await layer.group_add("room", channel)
        state = layer._state()
        keeper = layer._keepers[state]
        shard = state.shards[0]
        run_script = shard.run_script

        async def discard_first(source: str, keys: Any, args: Any) -> Any:
            if source == GROUP_RENEW:
                await layer.group_discard("room", channel)
            return await run_script(source, keys, args)

        caplog.set_level(logging.WARNING, logger="chanx.redis")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(shard, "run_script", discard_first)
            async with keeper.lock:
                await keeper.round()
        assert layer.stats.memberships_restored == 0
        assert not [i for i in layer.stats.incidents if i.cause == "memberships_lost"]
        assert "memberships_lost" not in caplog.text
        assert await shard.execute("ZSCORE", group_key(layer.prefix, "room"), channel) is None
    finally:
        await layer.flush()
        await layer.close()


async def test_receive_times_of_channels_in_no_group_are_forgotten(redis_url: str) -> None:
    # Every connection leaves a receive time; kept for group_expiry (a day), they grew by
    # one per connection served. Only those that renew a membership are kept.
    layer = RedisChannelLayer.from_url(redis_url, prefix=_prefix(), heal_interval=3600)
    try:
        member, loner = await layer.new_channel(), await layer.new_channel()
        for channel in (member, loner):
            await layer.send(channel, {"type": "x"})
            with anyio.fail_after(5):
                assert await layer.receive(channel) == {"type": "x"}
        await layer.group_add("room", member)
        state = layer._state()
        [inbox] = state.inboxes.values()
        assert set(inbox.receivers) == {member.partition("!")[2], loner.partition("!")[2]}
        keeper = layer._keepers[state]
        async with keeper.lock:
            await keeper.round()
        assert set(inbox.receivers) == {member.partition("!")[2]}
    finally:
        await layer.flush()
        await layer.close()
