"""The RabbitMQ layer beyond the conformance suite: processes, groups, options, URLs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from asgiref.sync import async_to_sync

from chanx.core.layers import ChannelFull, register_channel_layer, unregister_channel_layer
from chanx.rabbitmq import RabbitMQChannelLayer

pytestmark = pytest.mark.rabbitmq

TIMEOUT = 5.0


def _name(kind: str) -> str:
    return f"{kind}.{uuid.uuid4().hex}"


@pytest.fixture
async def make_layer(amqp_url: str) -> AsyncIterator[Callable[..., RabbitMQChannelLayer]]:
    """Layers sharing one prefix, each standing for its own process."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    layers: list[RabbitMQChannelLayer] = []

    def make(**options: Any) -> RabbitMQChannelLayer:
        layer = RabbitMQChannelLayer(amqp_url, prefix=prefix, queue_expiry=10, **options)
        layers.append(layer)
        return layer

    yield make
    for layer in layers:
        await layer.close()


async def receive(layer: RabbitMQChannelLayer, channel: str) -> dict[str, Any]:
    with anyio.fail_after(TIMEOUT):
        return await layer.receive(channel)


async def test_send_reaches_a_channel_of_another_process(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    sender, reader = make_layer(), make_layer()
    channel = await reader.new_channel()
    await sender.send(channel, {"type": "hello", "data": b"\x00\xff", "n": [1, 2.5]})
    assert await receive(reader, channel) == {"type": "hello", "data": b"\x00\xff", "n": [1, 2.5]}


async def test_group_send_is_one_publish_for_any_number_of_members(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    first, second, sender = make_layer(), make_layer(), make_layer()
    group = _name("room")
    members = [await first.new_channel() for _ in range(50)]
    members += [await second.new_channel() for _ in range(50)]
    for channel in members[:50]:
        await first.group_add(group, channel)
    for channel in members[50:]:
        await second.group_add(group, channel)
    await sender.group_send(group, {"type": "news"})
    for channel in members[:50]:
        assert await receive(first, channel) == {"type": "news"}
    for channel in members[50:]:
        assert await receive(second, channel) == {"type": "news"}
    # One publish left the sender; the broker made one copy per process, not per member.
    assert sender.stats.group_sends == 1
    assert first.stats.group_deliveries == 50
    assert second.stats.group_deliveries == 50


async def test_group_add_of_another_process_channel_is_applied_by_its_owner(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    owner, other = make_layer(), make_layer()
    group = _name("room")
    channel = await owner.new_channel()
    await other.group_add(group, channel)
    await other.send(channel, {"type": "after-add"})  # same queue: the add is applied first
    assert await receive(owner, channel) == {"type": "after-add"}
    await other.group_send(group, {"type": "news"})
    assert await receive(owner, channel) == {"type": "news"}
    await other.group_discard(group, channel)
    await other.group_send(group, {"type": "missed"})
    await other.send(channel, {"type": "marker"})
    assert await receive(owner, channel) == {"type": "marker"}


async def test_group_send_right_after_a_remote_group_add_reaches_the_member(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    """The adding process binds the owner's queue before group_add returns (it used to be
    bound by the owner in the background, so a group_send right after was routed nowhere)."""
    owner, other = make_layer(), make_layer()
    for index in range(5):
        group = _name(f"room{index}")
        channel = await owner.new_channel()
        await other.group_add(group, channel)
        await other.group_send(group, {"type": "news", "index": index})
        assert await receive(owner, channel) == {"type": "news", "index": index}


async def test_group_add_of_a_channel_whose_process_is_gone_is_quiet(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    layer = make_layer()
    channel = "specific.0123456789ab!feedface"
    await layer.group_add(_name("room"), channel)  # no such process queue: nobody to add
    await layer.group_send(_name("room"), {"type": "news"})
    marker = await layer.new_channel()
    await layer.send(marker, {"type": "marker"})  # the publishing channel still works
    assert await receive(layer, marker) == {"type": "marker"}


async def test_full_channel_of_another_process_drops_and_logs(
    make_layer: Callable[..., RabbitMQChannelLayer], caplog: pytest.LogCaptureFixture
) -> None:
    sender, reader = make_layer(capacity=2), make_layer(capacity=2)
    channel = await reader.new_channel()
    caplog.set_level(logging.WARNING, logger="chanx.rabbitmq")
    for index in range(3):
        await sender.send(channel, {"type": "m", "index": index})
    marker = await reader.new_channel()
    await sender.send(marker, {"type": "marker"})
    assert await receive(reader, marker) == {"type": "marker"}  # arrived after the three
    assert reader.stats.full_drops == 1
    assert [(await receive(reader, channel))["index"] for _ in range(2)] == [0, 1]
    assert "holds its capacity of 2 messages" in caplog.text


async def test_group_member_of_another_process_at_capacity_drops_and_logs(
    make_layer: Callable[..., RabbitMQChannelLayer], caplog: pytest.LogCaptureFixture
) -> None:
    """A group message skipped for a full member is counted and logged, like a direct send's."""
    sender, reader = make_layer(capacity=2), make_layer(capacity=2)
    channel = await reader.new_channel()
    group = _name("full-room")
    await reader.group_add(group, channel)
    caplog.set_level(logging.WARNING, logger="chanx.rabbitmq")
    for index in range(5):
        await sender.group_send(group, {"type": "m", "index": index})
    marker = await reader.new_channel()
    await sender.send(marker, {"type": "marker"})
    assert await receive(reader, marker) == {"type": "marker"}  # arrived after the five
    assert reader.stats.group_drops == 3
    assert [(await receive(reader, channel))["index"] for _ in range(2)] == [0, 1]
    assert f"dropped a message to group {group!r}" in caplog.text
    await reader.close()  # sums up the quiet repeats
    assert "2 more after the first line" in caplog.text


async def test_send_to_own_full_channel_raises(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    layer = make_layer(capacity=3)
    channel = await layer.new_channel()
    for index in range(3):
        await layer.send(channel, {"type": "m", "index": index})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "m", "index": 3})
    assert layer.stats.channel_full == 1


async def test_full_process_queue_refuses_sends(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    """The process queue's length limit (x-overflow: reject-publish) reaches the sender."""
    reader = make_layer(queue_capacity=3, prefetch=1)
    sender = make_layer()
    stalled = await reader.new_channel()
    await reader.close()  # its queue stays in the broker, nobody reads it
    for index in range(3):
        await sender.send(stalled, {"type": "m", "index": index})
    with pytest.raises(ChannelFull):
        await sender.send(stalled, {"type": "m", "index": 3})


async def test_send_to_a_process_that_is_gone_is_counted_and_logged(
    make_layer: Callable[..., RabbitMQChannelLayer], caplog: pytest.LogCaptureFixture
) -> None:
    sender = make_layer()
    await sender.new_channel()  # connects
    caplog.set_level(logging.WARNING, logger="chanx.rabbitmq")
    await sender.send("specific.nobody!abc", {"type": "m"})
    assert sender.stats.unroutable == 1
    assert "no process reads channel 'specific.nobody!abc'" in caplog.text


async def test_plain_channel_group_membership(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    first, second = make_layer(), make_layer()
    group, worker = _name("jobs"), _name("worker")
    await first.group_add(group, worker)
    await second.group_send(group, {"type": "job"})
    assert await receive(second, worker) == {"type": "job"}


def test_async_to_sync_from_a_thread_gets_and_closes_its_own_connection(amqp_url: str) -> None:
    """Django's async_to_sync runs each call in a new event loop, closed after the call."""
    layer = RabbitMQChannelLayer(amqp_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    group = _name("room")

    async def scenario() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await asyncio.to_thread(async_to_sync(layer.group_send), group, {"type": "from-sync"})
        await asyncio.to_thread(async_to_sync(layer.send), channel, {"type": "direct"})
        first = await receive(layer, channel)
        assert await receive(layer, channel) == {"type": "direct"}
        await layer.close()
        return first

    assert asyncio.run(scenario()) == {"type": "from-sync"}


def test_from_url_splits_layer_options_from_the_broker_url() -> None:
    layer = RabbitMQChannelLayer.from_url(
        "amqp://u:p@broker:5673/vh?prefix=app&capacity=5&expiry=2.5&heartbeat=30",
        group_expiry=7,
    )
    assert layer.url == "amqp://u:p@broker:5673/vh?heartbeat=30"
    assert (layer.prefix, layer.capacity, layer.expiry, layer.group_expiry) == ("app", 5, 2.5, 7)
    assert "u:p" not in repr(layer)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("redis://h", "expected an 'amqp://' or 'amqps://' URL, but got 'redis://h'"),
        ("amqp://h?capacity=lots", "option 'capacity' in 'amqp://h?capacity=lots' must be"),
    ],
)
def test_bad_urls_name_what_was_received(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("?", r"\?")):
        RabbitMQChannelLayer.from_url(url)


@pytest.mark.parametrize(
    "options", [{"capacity": 0}, {"expiry": -1}, {"prefetch": True}, {"prefix": "a b"}]
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        RabbitMQChannelLayer(**options)


async def test_registered_by_url_through_the_entry_points(amqp_url: str) -> None:
    layer = register_channel_layer("rabbit-test", amqp_url + "?prefix=test-registry")
    try:
        assert isinstance(layer, RabbitMQChannelLayer)
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "m"})
        assert await receive(layer, channel) == {"type": "m"}
    finally:
        unregister_channel_layer("rabbit-test")
        await layer.close()


async def test_mailboxes_of_channels_nobody_reads_do_not_pile_up(
    make_layer: Callable[..., RabbitMQChannelLayer],
) -> None:
    # Every connection's channel left a mailbox for the life of the process.
    layer = make_layer(expiry=0.2)
    endpoint = layer._endpoint()
    for _ in range(20):  # a connection: a channel, one message, a receive cancelled at close
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "hello"})
        assert await receive(layer, channel) == {"type": "hello"}
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)  # it waits now
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert endpoint.boxes == {}
    # A message for a channel whose reader is gone waits in its mailbox until it expires.
    orphan = await layer.new_channel()
    await layer.send(orphan, {"type": "late"})
    assert len(endpoint.boxes[orphan]) == 1
    await asyncio.sleep(0.3)  # past its expiry (0.2 s): time passing, not a synchronisation
    expired = layer.stats.expired
    endpoint._next_sweep = 0.0  # the sweep is due (it runs once per max(1 s, expiry))
    await layer.new_channel()  # making a mailbox runs the sweep when it is due
    assert orphan not in endpoint.boxes
    assert layer.stats.expired == expired + 1  # counted, as every expired message is
