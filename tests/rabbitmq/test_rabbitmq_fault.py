"""Connection loss: every message is delivered, or its sender gets an error, or it is counted
and logged with its cause. Never silent.

A TCP proxy between the layer and the broker cuts connections at will; one test closes the
connection from the broker's side with ``rabbitmqctl close_connection`` where it is installed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiormq
import anyio
import pytest

from chanx.rabbitmq import RabbitMQChannelLayer
from chanx.rabbitmq._link import _reraise_own_cancellation

from ._proxy import Proxy

pytestmark = [
    pytest.mark.rabbitmq,
    # aiormq 6.9 sometimes leaves the socket of a connection that died under it for the
    # garbage collector, which then warns; the layer has no public way to close it.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

TIMEOUT = 15.0


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[Proxy]:
    parts = urlsplit(amqp_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def layers() -> AsyncIterator[list[RabbitMQChannelLayer]]:
    made: list[RabbitMQChannelLayer] = []
    yield made
    for layer in made:
        await layer.close()


def via(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    return parts._replace(
        netloc=f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    ).geturl()


async def eventually(condition: Callable[[], bool], what: str) -> None:
    with anyio.fail_after(TIMEOUT):
        for _ in range(100_000):
            if condition():
                return
            await anyio.sleep(0.01)
    raise AssertionError(what)  # pragma: no cover


async def test_each_message_across_a_connection_loss_is_delivered_or_refused(
    amqp_url: str,
    proxy: Proxy,
    layers: list[RabbitMQChannelLayer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="chanx.rabbitmq")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    options: dict[str, Any] = {"prefix": prefix, "queue_expiry": 10, "capacity": 10_000}
    reader = RabbitMQChannelLayer(via(amqp_url, proxy), **options)
    sender = RabbitMQChannelLayer(via(amqp_url, proxy), **options)
    layers += [reader, sender]
    channel = await reader.new_channel()
    outcome: dict[int, str] = {}
    received: list[int] = []

    async def send(index: int) -> None:
        try:
            await sender.send(channel, {"type": "m", "index": index})
        except ConnectionError:
            outcome[index] = "error"
        else:
            outcome[index] = "sent"

    async def read() -> None:
        while True:
            received.append((await reader.receive(channel))["index"])

    loop = asyncio.get_running_loop()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read)
        for batch in range(30):
            if batch == 10:
                proxy.refusing = True  # an outage of half a second, both sides cut
                proxy.cut()
                loop.call_later(0.5, setattr, proxy, "refusing", False)
            await asyncio.gather(*(send(batch * 20 + n) for n in range(20)))
        await eventually(
            lambda: {i for i, o in outcome.items() if o == "sent"} <= set(received),
            "every confirmed message arrives",
        )
        tasks.cancel_scope.cancel()

    assert len(outcome) == 600
    for index in range(600):
        # The rule, per message: delivered, or its sender got an error.
        assert index in received or outcome[index] == "error", index
    assert len(received) == len(set(received)), "a redelivered message arrived twice"
    assert reader.stats.disconnects >= 1
    assert reader.stats.reconnects >= 1
    assert sender.stats.reconnects >= 1
    assert reader.stats.possible_loss == 0  # the queue outlived the outage
    assert "lost the connection to RabbitMQ" in caplog.text
    assert "was kept, nothing was lost" in caplog.text


async def test_a_queue_lost_during_an_outage_is_counted_and_logged(
    amqp_url: str,
    proxy: Proxy,
    layers: list[RabbitMQChannelLayer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As after a broker restart: the queue and its bindings are gone when the layer returns."""
    caplog.set_level(logging.WARNING, logger="chanx.rabbitmq")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    reader = RabbitMQChannelLayer(via(amqp_url, proxy), prefix=prefix, queue_expiry=10)
    sender = RabbitMQChannelLayer(amqp_url, prefix=prefix)
    layers += [reader, sender]
    channel = await reader.new_channel()
    group = f"room.{uuid.uuid4().hex}"
    await reader.group_add(group, channel)
    await sender.send(channel, {"type": "before"})
    with anyio.fail_after(TIMEOUT):
        assert await reader.receive(channel) == {"type": "before"}

    proxy.refusing = True
    proxy.cut()
    await eventually(lambda: reader.stats.disconnects == 1, "the reader notices the cut")
    admin = await aiormq.connect(amqp_url)
    try:
        admin_channel = await admin.channel()
        client_id = channel.partition("!")[0].removeprefix("specific.")
        await admin_channel.queue_delete(f"{prefix}.process.{client_id}")
    finally:
        await admin.close()
    for index in range(5):
        await sender.send(channel, {"type": "lost", "index": index})
    await sender.group_send(group, {"type": "lost-group"})
    # Direct sends with no queue behind them are counted and logged by the sender.
    assert sender.stats.unroutable == 5
    assert f"no process reads channel {channel!r}" in caplog.text

    proxy.refusing = False
    await eventually(lambda: reader.stats.reconnects == 1, "the reader reconnects")
    # The reader counts and logs that what was queued for it meanwhile is lost.
    assert reader.stats.possible_loss == 1
    assert "was gone" in caplog.text
    assert "are lost" in caplog.text
    # Queue, inbox binding and group binding are back.
    await sender.send(channel, {"type": "after"})
    await sender.group_send(group, {"type": "after-group"})
    with anyio.fail_after(TIMEOUT):
        assert await reader.receive(channel) == {"type": "after"}
        assert await reader.receive(channel) == {"type": "after-group"}


async def _close_from_the_broker(client_id: str) -> int:
    """Close this client's connections with rabbitmqctl; return how many were closed."""
    listing = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet",
        "--no-table-headers", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, _ = await listing.communicate()
    pids = [line.split("\t", 1)[0] for line in out.decode().splitlines() if client_id in line]
    for pid in pids:
        closing = await asyncio.create_subprocess_exec(
            "rabbitmqctl", "close_connection", pid, "chanx fault test", "--quiet",
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(30):
            await closing.wait()
    return len(pids)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="rabbitmqctl is not installed")
async def test_connection_closed_by_the_broker_comes_back(
    amqp_url: str, layers: list[RabbitMQChannelLayer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chanx.rabbitmq")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    reader = RabbitMQChannelLayer(amqp_url, prefix=prefix, queue_expiry=30)
    sender = RabbitMQChannelLayer(amqp_url, prefix=prefix)
    layers += [reader, sender]
    channel = await reader.new_channel()
    await sender.send(channel, {"type": "before"})
    with anyio.fail_after(TIMEOUT):
        assert await reader.receive(channel) == {"type": "before"}
    client_id = channel.partition("!")[0].removeprefix("specific.")
    assert await _close_from_the_broker(client_id) == 1
    await sender.send(channel, {"type": "during"})  # queued while the reader reconnects
    await eventually(lambda: reader.stats.reconnects == 1, "the reader reconnects")
    await sender.send(channel, {"type": "after"})
    with anyio.fail_after(TIMEOUT):
        assert await reader.receive(channel) == {"type": "during"}
        assert await reader.receive(channel) == {"type": "after"}
    assert reader.stats.possible_loss == 0
    assert "lost the connection to RabbitMQ" in caplog.text


async def test_a_stalled_link_gives_senders_an_error_within_connect_timeout(
    amqp_url: str, proxy: Proxy, layers: list[RabbitMQChannelLayer]
) -> None:
    """The connection stays open but nothing passes (a partition): every call that needs
    the broker raises `ConnectionError` after `connect_timeout`, instead of waiting for the
    heartbeat to notice (minutes) and then raising `CancelledError` into its caller."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    options: dict[str, Any] = {"prefix": prefix, "connect_timeout": 1}
    reader = RabbitMQChannelLayer(amqp_url, **options)  # not through the proxy
    sender = RabbitMQChannelLayer(via(amqp_url, proxy), **options)
    layers += [reader, sender]
    channel = await reader.new_channel()
    await reader.group_add(f"{prefix}-room", channel)
    await sender.send(channel, {"type": "before"})  # the sender's link is up
    proxy.flowing.clear()
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("send", lambda: sender.send(channel, {"type": "m"})),
        ("group_send", lambda: sender.group_send(f"{prefix}-room", {"type": "m"})),
        ("group_add", lambda: sender.group_add(f"{prefix}-other", channel)),
    ]
    for name, call in calls:
        started = loop.time()
        with anyio.fail_after(TIMEOUT), pytest.raises(ConnectionError):
            await call()
        assert loop.time() - started < 5, name
    proxy.flowing.set()
    # The link was never lost: once bytes pass again, so do messages.
    with anyio.fail_after(TIMEOUT):
        while True:
            try:
                await sender.send(channel, {"type": "after"})
                break
            except ConnectionError:
                continue
        while (await reader.receive(channel))["type"] != "after":
            pass


async def test_a_caller_cancelled_during_a_stall_is_cancelled_not_failed(
    amqp_url: str, proxy: Proxy, layers: list[RabbitMQChannelLayer]
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    reader = RabbitMQChannelLayer(amqp_url, prefix=prefix)
    sender = RabbitMQChannelLayer(via(amqp_url, proxy), prefix=prefix, connect_timeout=5)
    layers += [reader, sender]
    channel = await reader.new_channel()
    await sender.send(channel, {"type": "before"})
    proxy.flowing.clear()
    with anyio.move_on_after(0.5) as scope:
        await sender.send(channel, {"type": "m"})  # cancelled by the scope, not an error
    assert scope.cancelled_caught
    proxy.flowing.set()


async def test_only_a_cancellation_of_the_caller_passes_as_one() -> None:
    """aiormq cancels the futures of a link its heartbeat gave up on: that `CancelledError`
    reaches callers nobody cancelled, and the link turns it into `ConnectionError`. (A real
    heartbeat expiry is not driven here: aiormq then leaves its socket to the garbage
    collector, whose warning would land in a later test.)"""
    loop = asyncio.get_running_loop()
    _reraise_own_cancellation(asyncio.CancelledError())  # nobody cancelled us: it returns
    started = asyncio.Event()

    async def cancelled_caller() -> None:
        started.set()
        try:
            await loop.create_future()
        except asyncio.CancelledError as error:
            _reraise_own_cancellation(error)
            raise AssertionError("the caller's own cancellation was swallowed") from None

    task = asyncio.ensure_future(cancelled_caller())
    await started.wait()
    task.cancel()
    with anyio.fail_after(TIMEOUT), pytest.raises(asyncio.CancelledError):
        await task
