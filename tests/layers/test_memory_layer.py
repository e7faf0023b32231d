from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import anyio
import pytest

from chanx.core.layers import ChannelFull, ChannelLayer, InMemoryChannelLayer, _memory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_memory, "monotonic", fake)
    return fake


def test_satisfies_the_protocol() -> None:
    layer = InMemoryChannelLayer()
    assert isinstance(layer, ChannelLayer)
    assert layer.extensions == ["groups", "flush"]


def test_from_url_defaults() -> None:
    layer = InMemoryChannelLayer.from_url("memory://")
    assert (layer.expiry, layer.group_expiry, layer.capacity) == (60, 86400, 100)


def test_from_url_parses_numbers() -> None:
    layer = InMemoryChannelLayer.from_url("memory://?capacity=50&expiry=30&group_expiry=2.5")
    assert layer.capacity == 50
    assert isinstance(layer.capacity, int)
    assert layer.expiry == 30.0
    assert layer.group_expiry == 2.5


def test_from_url_keyword_options_override_the_query() -> None:
    layer = InMemoryChannelLayer.from_url(
        "memory://?capacity=50", capacity=7, channel_capacity={"a.*": 3}
    )
    assert layer.capacity == 7
    assert layer.channel_capacity == {"a.*": 3}


def test_from_url_rejects_unknown_options() -> None:
    with pytest.raises(ValueError, match="'hosts'"):
        InMemoryChannelLayer.from_url("memory://?hosts=1")


def test_from_url_rejects_bad_numbers() -> None:
    with pytest.raises(ValueError, match=r"'capacity'.*'lots'"):
        InMemoryChannelLayer.from_url("memory://?capacity=lots")


def test_from_url_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="redis://x"):
        InMemoryChannelLayer.from_url("redis://x")


@pytest.mark.parametrize("options", [{"capacity": 0}, {"expiry": 0}, {"group_expiry": -1}], ids=str)
def test_rejects_nonsense_options(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="but got"):
        InMemoryChannelLayer(**options)


async def test_errors_name_what_was_received() -> None:
    layer = InMemoryChannelLayer()
    with pytest.raises(TypeError, match="'bad name'"):
        await layer.send("bad name", {"type": "x"})
    with pytest.raises(TypeError, match="'not a dict'"):
        await layer.send("ok", "not a dict")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'kind': 1"):
        await layer.send("ok", {"kind": 1})
    with pytest.raises(ValueError, match="'type' key"):
        await layer.group_send("group", {"kind": 1})
    with pytest.raises(TypeError):
        await layer.new_channel(prefix="bad!prefix")


@pytest.mark.parametrize("bad", ["bad name", "", "x" * 200, None, 5, ["list"]], ids=repr)
async def test_names_in_use_do_not_let_bad_ones_through(bad: Any) -> None:
    # The layer skips the name check for channels and groups it already holds.
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "x"})
    with anyio.fail_after(1):
        assert await layer.receive(channel) == {"type": "x"}
    with pytest.raises(TypeError):
        await layer.receive(bad)
    with pytest.raises(TypeError):
        await layer.send(bad, {"type": "x"})
    with pytest.raises(TypeError):
        await layer.group_send(bad, {"type": "x"})


async def test_group_send_shares_one_message_dict() -> None:
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room", first)
    await layer.group_add("room", second)
    message = {"type": "chat", "text": "hi"}
    await layer.group_send("room", message)
    with anyio.fail_after(1):
        assert await layer.receive(first) is message
        assert await layer.receive(second) is message


async def test_group_send_counts_and_logs_drops(caplog: pytest.LogCaptureFixture) -> None:
    layer = InMemoryChannelLayer(capacity=1)
    full, free = "full", "free"
    await layer.group_add("room", full)
    await layer.group_add("room", free)
    await layer.send(full, {"type": "first"})
    with caplog.at_level(logging.DEBUG, logger="chanx.layers.memory"):
        await layer.group_send("room", {"type": "broadcast"})
    assert layer.dropped_on_full == 1
    assert "'full'" in caplog.text
    with anyio.fail_after(1):
        assert await layer.receive(free) == {"type": "broadcast"}
        assert await layer.receive(full) == {"type": "first"}


async def test_channel_capacity_patterns() -> None:
    layer = InMemoryChannelLayer(capacity=5, channel_capacity={"small.*": 1, "*": 2})
    await layer.send("small.one", {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send("small.one", {"type": "x"})
    for _ in range(2):
        await layer.send("other", {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send("other", {"type": "x"})


class NoScanDict(dict[str, Any]):
    """A dict that records keyed lookups and fails on any iteration."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.looked_up: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_up.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.looked_up.add(key)
        return super().__getitem__(key)

    def _scan(self, *args: Any) -> Any:
        raise AssertionError("scanned every channel")

    __iter__ = keys = values = items = _scan


async def test_group_send_touches_only_members() -> None:
    layer = InMemoryChannelLayer()
    for index in range(2000):
        await layer.send(f"bystander.{index}", {"type": "x"})
    members = {"member.a", "member.b"}
    for channel in members:
        await layer.group_add("room", channel)
    spy = NoScanDict(layer._channels)
    layer._channels = spy
    await layer.group_send("room", {"type": "broadcast"})
    assert spy.looked_up == members


async def test_expired_messages_are_dropped_on_receive(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10)
    await layer.send("chan", {"type": "old"})
    clock.now += 11
    await layer.send("chan", {"type": "new"})
    with anyio.fail_after(1):
        assert await layer.receive("chan") == {"type": "new"}
    assert layer.dropped_expired == 1


async def test_expired_messages_free_capacity(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10, capacity=1)
    await layer.send("chan", {"type": "old"})
    clock.now += 11
    await layer.send("chan", {"type": "new"})
    await layer.group_add("room", "chan")
    await layer.receive("chan")
    await layer.send("chan", {"type": "newer"})
    clock.now += 11
    await layer.group_send("room", {"type": "broadcast"})
    assert layer.dropped_on_full == 0
    assert await layer.receive("chan") == {"type": "broadcast"}


async def test_group_membership_expires_lazily(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(group_expiry=100)
    await layer.group_add("room", "old")
    clock.now += 60
    await layer.group_add("room", "young")
    clock.now += 60
    await layer.group_send("room", {"type": "broadcast"})
    assert layer._groups == {"room": {"young": clock.now - 60}}
    assert await layer.receive("young") == {"type": "broadcast"}
    assert "old" not in layer._channels
    clock.now += 101
    await layer.group_send("room", {"type": "broadcast"})
    assert layer._groups == {}


async def test_group_add_refreshes_membership(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(group_expiry=100)
    await layer.group_add("room", "chan")
    clock.now += 60
    await layer.group_add("room", "chan")
    clock.now += 60
    await layer.group_send("room", {"type": "broadcast"})
    assert await layer.receive("chan") == {"type": "broadcast"}


async def test_consumed_and_abandoned_channels_are_removed() -> None:
    layer = InMemoryChannelLayer()
    await layer.send("chan", {"type": "x"})
    await layer.receive("chan")
    with anyio.move_on_after(0.01):
        await layer.receive("waited")
    assert layer._channels == {}
    assert layer._pending == {}


async def test_unread_channels_are_swept_after_expiry(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10)
    await layer.group_add("room", "gone")
    await layer.group_send("room", {"type": "x"})
    await layer.send("also.gone", {"type": "x"})
    clock.now += 5
    await layer.send("fresh", {"type": "x"})
    assert set(layer._channels) == {"gone", "also.gone", "fresh"}
    clock.now += 6
    await layer.send("newest", {"type": "x"})
    assert set(layer._channels) == {"fresh", "newest"}
    assert list(layer._pending) == ["fresh", "newest"]
    assert layer.dropped_expired == 2


async def test_flush_keeps_waiting_receivers_working() -> None:
    layer = InMemoryChannelLayer()
    await layer.send("other", {"type": "x"})
    received: list[dict[str, Any]] = []

    async def receive_one() -> None:
        received.append(await layer.receive("chan"))

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(receive_one)
            await anyio.wait_all_tasks_blocked()
            await layer.flush()
            assert list(layer._channels) == ["chan"]
            await layer.send("chan", {"type": "after"})
    assert received == [{"type": "after"}]


async def test_cancelled_waiter_passes_its_wake_up_on() -> None:
    layer = InMemoryChannelLayer()
    first = asyncio.create_task(layer.receive("chan"))
    second = asyncio.create_task(layer.receive("chan"))
    await anyio.wait_all_tasks_blocked()
    await layer.send("chan", {"type": "x"})  # wakes the first waiter...
    first.cancel()  # ...which is cancelled before it runs
    with anyio.fail_after(1):
        assert await second == {"type": "x"}
    with pytest.raises(asyncio.CancelledError):
        await first
    assert layer._channels == {}


async def test_close_does_nothing() -> None:
    layer = InMemoryChannelLayer()
    await layer.send("chan", {"type": "x"})
    await layer.close()
    assert await layer.receive("chan") == {"type": "x"}
    assert "capacity=100" in repr(layer)


async def test_receivers_cancelled_at_random_lose_and_duplicate_nothing() -> None:
    layer = InMemoryChannelLayer(capacity=10_000)
    rng = random.Random(20240601)
    total = 2000
    received: list[int] = []
    all_received = asyncio.Event()

    async def receive_forever() -> None:
        while True:
            received.append((await layer.receive("chan"))["index"])
            if len(received) == total:
                all_received.set()

    receivers = [asyncio.create_task(receive_forever()) for _ in range(4)]
    for index in range(total):
        await layer.send("chan", {"type": "x", "index": index})
        if rng.random() < 0.3:
            victim = rng.randrange(len(receivers))
            receivers[victim].cancel()
            receivers[victim] = asyncio.create_task(receive_forever())
        for _ in range(rng.randrange(3)):
            await asyncio.sleep(0)  # vary the interleaving of senders, wake-ups and cancels
    with anyio.fail_after(5):
        await all_received.wait()
    for task in receivers:
        task.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    assert sorted(received) == list(range(total))
    assert layer._channels == {}


async def test_a_live_receiver_never_expires_out_of_its_groups(clock: FakeClock) -> None:
    # Issue 13, item 3: with group_expiry=3 a socket open at t=5 received nothing.
    layer = InMemoryChannelLayer(group_expiry=3)
    await layer.group_add("room", "live")
    await layer.group_add("room", "unread")
    waiting = asyncio.ensure_future(layer.receive("live"))
    await asyncio.sleep(0)
    clock.now += 5
    await layer.group_send("room", {"type": "broadcast", "n": 1})
    assert await asyncio.wait_for(waiting, 1) == {"type": "broadcast", "n": 1}
    # Busy in a handler (not waiting right now) but it received within group_expiry.
    clock.now += 2
    await layer.group_send("room", {"type": "broadcast", "n": 2})
    assert await layer.receive("live") == {"type": "broadcast", "n": 2}
    # Nobody ever read "unread": its membership expired as the Channels spec says.
    assert set(layer._groups["room"]) == {"live"}
    assert "unread" not in layer._channels


async def test_a_channel_nobody_reads_any_more_expires_after_its_last_receive(
    clock: FakeClock,
) -> None:
    layer = InMemoryChannelLayer(group_expiry=3)
    await layer.group_add("room", "chan")
    await layer.send("chan", {"type": "x"})
    clock.now += 2
    assert await layer.receive("chan") == {"type": "x"}
    clock.now += 2  # 4 s after group_add, 2 s after the last receive: still a member
    await layer.group_send("room", {"type": "broadcast", "n": 1})
    clock.now += 4  # 4 s after the last receive, nobody waiting: expired
    await layer.group_send("room", {"type": "broadcast", "n": 2})
    assert layer._groups == {}
    assert layer._receivers == {}  # the record of receives is swept too
    assert await layer.receive("chan") == {"type": "broadcast", "n": 1}


async def test_receive_times_of_channels_in_no_group_are_forgotten_within_a_minute(
    clock: FakeClock,
) -> None:
    layer = InMemoryChannelLayer()  # group_expiry: a day
    for channel in ("member", "loner", "leaver"):
        await layer.send(channel, {"type": "x"})
        assert await layer.receive(channel) == {"type": "x"}
    await layer.group_add("room", "member")
    await layer.group_add("room", "leaver")
    await layer.group_discard("room", "leaver")  # a connection that closed
    clock.now += 61
    await layer.send("other", {"type": "x"})  # sends run the sweeps
    assert set(layer._receivers) == {"member"}
    assert await layer.receive("other") == {"type": "x"}
    await layer.group_send("room", {"type": "still"})
    assert await layer.receive("member") == {"type": "still"}
