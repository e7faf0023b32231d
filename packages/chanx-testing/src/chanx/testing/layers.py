"""A conformance suite for channel layers: subclass it to prove a backend behaves.

Subclass `ChannelLayerConformance` in a test module (its name must start with ``Test``),
override the ``layer`` fixture to yield a fresh, flushed layer, and describe the layer's
configuration with the class attributes::

    import pytest
    from chanx.testing.layers import ChannelLayerConformance

    class TestMyLayer(ChannelLayerConformance):
        capacity = 10          # the layer's per-channel capacity (None: skip capacity tests)
        expiry = 1.0           # message expiry in seconds (None: skip the expiry test)
        group_expiry = 1.0     # group membership expiry in seconds (None: skip)

        @pytest.fixture
        async def layer(self):
            layer = MyLayer(capacity=10, expiry=1, group_expiry=1)
            await layer.flush()
            yield layer
            await layer.flush()
            await layer.close()

The tests are ``async def`` functions run on asyncio: the suite needs pytest-asyncio in
auto mode (``asyncio_mode = "auto"``). With pytest-asyncio in strict mode, set
``pytestmark = pytest.mark.asyncio`` on the subclass and declare the fixture with
``@pytest_asyncio.fixture``. Every wait for a message is bounded by ``timeout`` seconds,
and each whole test by ``test_timeout``, so a layer that blocks (a ``send`` that waits
while a channel is full) fails the test instead of hanging the run.

Class attributes:
    capacity: Per-channel capacity of the fixture's layer, or None to skip capacity tests.
        Keep it small (say 10): tests fill a channel to it.
    expiry: Message expiry of the fixture's layer in seconds, or None to skip that test.
        The test sleeps a little longer than it, so keep it short (about 1 second).
    group_expiry: Group membership expiry in seconds, or None to skip that test; short too.
    supports_flush: False when the layer has no ``flush`` (the fixture must then isolate
        tests another way, such as unique names).
    timeout: Seconds any single wait may take.
    test_timeout: Seconds a whole test may take, overrides included (60).
    large_payload_size: Characters in the large-payload test's string.
    channel_full_errors: The exceptions a full channel may raise: chanx's `ChannelFull` by
        default; a backend with its own (such as ``channels.exceptions.ChannelFull``) names it.

Each test uses fresh names (``uuid4``), so a layer shared between tests also works.
"""

from __future__ import annotations

import enum
import functools
import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ClassVar

import anyio
import pytest

from chanx.core.layers import ChannelFull, ChannelLayer

__all__ = ["ChannelLayerConformance"]


def _name(kind: str) -> str:
    return f"conformance.{kind}.{uuid.uuid4().hex}"


_Test = Callable[..., Coroutine[Any, Any, None]]


def _bounded(test: _Test) -> _Test:
    """``test`` failing after the class's ``test_timeout`` (pytest sees the same signature)."""

    @functools.wraps(test)
    async def run(self: ChannelLayerConformance, *args: Any, **kwargs: Any) -> None:
        with anyio.fail_after(self.test_timeout):
            await test(self, *args, **kwargs)

    run.__chanx_bounded__ = True  # type: ignore[attr-defined]
    return run


def _bound_tests(cls: type) -> None:
    for name, value in list(vars(cls).items()):
        if (
            name.startswith("test_")
            and inspect.iscoroutinefunction(value)
            and not getattr(value, "__chanx_bounded__", False)
        ):
            setattr(cls, name, _bounded(value))


class ChannelLayerConformance:
    """Tests every channel layer must pass; override the ``layer`` fixture."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _bound_tests(cls)  # a subclass's own tests and overrides too

    capacity: ClassVar[int | None] = None
    expiry: ClassVar[float | None] = None
    group_expiry: ClassVar[float | None] = None
    supports_flush: ClassVar[bool] = True
    timeout: ClassVar[float] = 5.0
    test_timeout: ClassVar[float] = 60.0
    large_payload_size: ClassVar[int] = 1_000_000
    channel_full_errors: ClassVar[tuple[type[BaseException], ...]] = (ChannelFull,)

    @pytest.fixture
    async def layer(self) -> AsyncIterator[ChannelLayer]:
        """Yield a fresh, flushed layer configured as the class attributes say."""
        raise NotImplementedError(f"{type(self).__name__} must override the 'layer' fixture")
        yield  # type: ignore[unreachable]  # noqa: PT022  # pragma: no cover

    async def receive(self, layer: ChannelLayer, channel: str) -> dict[str, Any]:
        """Receive one message from ``channel``, failing after ``timeout`` seconds."""
        with anyio.fail_after(self.timeout):
            return await layer.receive(channel)

    def batch(self, wanted: int) -> int:
        """How many messages one channel may hold at once: ``wanted`` or the capacity."""
        return wanted if self.capacity is None else min(wanted, self.capacity)

    async def test_round_trip(self, layer: ChannelLayer) -> None:
        """A message sent to a channel is received from it unchanged."""
        channel = _name("round-trip")
        message = {"type": "test.message", "text": "hello", "n": 1, "items": [1, 2]}
        await layer.send(channel, message)
        assert await self.receive(layer, channel) == message

    async def test_extensions_lists_groups(self, layer: ChannelLayer) -> None:
        """``extensions`` names the groups extension (and flush when supported)."""
        assert "groups" in layer.extensions
        if self.supports_flush:
            assert "flush" in layer.extensions

    async def test_order_is_kept_per_channel(self, layer: ChannelLayer) -> None:
        """Messages on one channel arrive in the order they were sent."""
        channel = _name("order")
        count = self.batch(20)
        for index in range(count):
            await layer.send(channel, {"type": "test.message", "index": index})
        received = [(await self.receive(layer, channel))["index"] for _ in range(count)]
        assert received == list(range(count))

    async def test_receive_waits_for_a_later_send(self, layer: ChannelLayer) -> None:
        """A waiting receive is woken by a later send."""
        channel = _name("wait")
        received: list[dict[str, Any]] = []

        async def receive_one() -> None:
            received.append(await self.receive(layer, channel))

        with anyio.fail_after(self.timeout):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(receive_one)
                await anyio.wait_all_tasks_blocked()  # the receiver is waiting
                await layer.send(channel, {"type": "test.message"})
        assert received == [{"type": "test.message"}]

    async def test_two_receivers_get_each_message_once(self, layer: ChannelLayer) -> None:
        """Two receivers on one channel share its messages: each is delivered once."""
        channel = _name("shared")
        count = self.batch(20)
        received: list[int] = []
        all_received = anyio.Event()

        async def receive_forever() -> None:
            while True:
                received.append((await layer.receive(channel))["index"])
                if len(received) >= count:
                    all_received.set()

        with anyio.fail_after(self.timeout):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(receive_forever)
                tasks.start_soon(receive_forever)
                for index in range(count):
                    await layer.send(channel, {"type": "test.message", "index": index})
                await all_received.wait()
                tasks.cancel_scope.cancel()
        assert sorted(received) == list(range(count))
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.marker"}

    async def test_new_channel_is_process_specific_and_unique(self, layer: ChannelLayer) -> None:
        """``new_channel`` names are unique, contain ``!`` and receive messages."""
        first = await layer.new_channel()
        second = await layer.new_channel()
        assert "!" in first
        assert first != second
        custom = await layer.new_channel(prefix="custom.")
        assert custom.startswith("custom.")
        assert "!" in custom
        await layer.send(first, {"type": "test.message", "to": "first"})
        await layer.send(second, {"type": "test.message", "to": "second"})
        assert (await self.receive(layer, second))["to"] == "second"
        assert (await self.receive(layer, first))["to"] == "first"

    async def test_group_send_reaches_members_only(self, layer: ChannelLayer) -> None:
        """``group_send`` reaches every member and no other channel."""
        group = _name("group")
        members = [await layer.new_channel() for _ in range(3)]
        outsider = await layer.new_channel()
        for channel in members:
            await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "test.broadcast", "text": "hi"})
        for channel in members:
            assert await self.receive(layer, channel) == {"type": "test.broadcast", "text": "hi"}
        await layer.send(outsider, {"type": "test.marker"})
        assert await self.receive(layer, outsider) == {"type": "test.marker"}

    async def test_str_subclass_names_are_their_plain_strings(self, layer: ChannelLayer) -> None:
        """A name given as a `str` subclass (an Enum member) means its characters.

        ``class Room(str, Enum)`` members format as ``"Room.LOBBY"``: a layer that builds
        keys with f-strings would put them in another group than the plain ``"lobby"``.
        """

        class Room(str, enum.Enum):  # noqa: UP042 - not StrEnum: its members format as values
            LOBBY = _name("lobby")
            DIRECT = _name("direct")

        channel = await layer.new_channel()
        await layer.group_add(Room.LOBBY, channel)
        await layer.group_send(Room.LOBBY.value, {"type": "test.broadcast", "n": 1})
        assert await self.receive(layer, channel) == {"type": "test.broadcast", "n": 1}
        await layer.group_add(Room.DIRECT.value, channel)
        await layer.group_send(Room.DIRECT, {"type": "test.broadcast", "n": 2})
        assert await self.receive(layer, channel) == {"type": "test.broadcast", "n": 2}
        await layer.group_discard(Room.LOBBY, channel)
        await layer.group_send(Room.LOBBY.value, {"type": "test.broadcast", "n": 3})
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.marker"}

    async def test_group_add_twice_delivers_once(self, layer: ChannelLayer) -> None:
        """Adding a channel twice to a group still delivers each message once."""
        group = _name("group")
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "test.broadcast"})
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.broadcast"}
        assert await self.receive(layer, channel) == {"type": "test.marker"}

    async def test_group_discard(self, layer: ChannelLayer) -> None:
        """A discarded channel gets no more group messages; discarding a non-member is a no-op."""
        group = _name("group")
        stays, leaves = await layer.new_channel(), await layer.new_channel()
        await layer.group_add(group, stays)
        await layer.group_add(group, leaves)
        await layer.group_discard(group, leaves)
        await layer.group_discard(group, await layer.new_channel())  # not a member: no-op
        await layer.group_discard(_name("never-used"), leaves)  # unknown group: no-op
        await layer.group_send(group, {"type": "test.broadcast"})
        assert await self.receive(layer, stays) == {"type": "test.broadcast"}
        await layer.send(leaves, {"type": "test.marker"})
        assert await self.receive(layer, leaves) == {"type": "test.marker"}

    async def test_group_send_to_empty_group_is_a_no_op(self, layer: ChannelLayer) -> None:
        """Sending to a group without members does nothing."""
        await layer.group_send(_name("empty"), {"type": "test.broadcast"})

    async def test_send_raises_channel_full_at_capacity(self, layer: ChannelLayer) -> None:
        """``send`` raises `ChannelFull` once a channel holds ``capacity`` messages."""
        if self.capacity is None:
            pytest.skip("capacity is None: the layer's capacity is not described")
        channel = _name("full")
        for index in range(self.capacity):
            await layer.send(channel, {"type": "test.message", "index": index})
        with pytest.raises(self.channel_full_errors):
            await layer.send(channel, {"type": "test.message", "index": self.capacity})
        assert (await self.receive(layer, channel))["index"] == 0
        await layer.send(channel, {"type": "test.message", "index": self.capacity})

    async def test_group_send_skips_full_members(self, layer: ChannelLayer) -> None:
        """``group_send`` silently skips full members and still reaches the others."""
        if self.capacity is None:
            pytest.skip("capacity is None: the layer's capacity is not described")
        group = _name("group")
        full, free = await layer.new_channel(), await layer.new_channel()
        await layer.group_add(group, full)
        await layer.group_add(group, free)
        for index in range(self.capacity):
            await layer.send(full, {"type": "test.message", "index": index})
        await layer.group_send(group, {"type": "test.broadcast"})  # must not raise
        assert await self.receive(layer, free) == {"type": "test.broadcast"}
        for index in range(self.capacity):
            assert (await self.receive(layer, full))["index"] == index
        await layer.send(full, {"type": "test.marker"})
        assert await self.receive(layer, full) == {"type": "test.marker"}

    async def test_expired_messages_are_not_received(self, layer: ChannelLayer) -> None:
        """A message older than ``expiry`` is never received."""
        if self.expiry is None:
            pytest.skip("expiry is None: the layer's message expiry is not described")
        channel = _name("expiry")
        await layer.send(channel, {"type": "test.message", "fresh": False})
        await anyio.sleep(self.expiry + 0.5)  # let the message outlive its expiry
        await layer.send(channel, {"type": "test.message", "fresh": True})
        assert await self.receive(layer, channel) == {"type": "test.message", "fresh": True}

    async def test_expired_group_membership_is_dropped(self, layer: ChannelLayer) -> None:
        """A membership older than ``group_expiry`` gets no group messages."""
        if self.group_expiry is None:
            pytest.skip("group_expiry is None: the layer's group expiry is not described")
        group = _name("group")
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await anyio.sleep(self.group_expiry + 0.5)  # let the membership outlive its expiry
        await layer.group_send(group, {"type": "test.broadcast"})
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.marker"}

    async def test_flush_drops_messages_and_groups(self, layer: ChannelLayer) -> None:
        """``flush`` drops queued messages and group memberships."""
        if not self.supports_flush:
            pytest.skip("supports_flush is False")
        group = _name("group")
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await layer.send(channel, {"type": "test.message"})
        await layer.flush()
        await layer.group_send(group, {"type": "test.broadcast"})
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.marker"}

    @pytest.mark.parametrize(
        "name",
        [
            "a" * 100,
            "has space",
            "two!bangs!here",
            "é-accent",
            "newline\n",
            "",
            123,
            None,
            b"bytes",
        ],
    )
    async def test_invalid_channel_names_raise_type_error(
        self, layer: ChannelLayer, name: Any
    ) -> None:
        """Invalid channel names raise `TypeError` in every method taking one."""
        group = _name("group")
        with pytest.raises(TypeError):
            await layer.send(name, {"type": "test.message"})
        with pytest.raises(TypeError):
            await self.receive(layer, name)
        with pytest.raises(TypeError):
            await layer.group_add(group, name)
        with pytest.raises(TypeError):
            await layer.group_discard(group, name)

    @pytest.mark.parametrize(
        "name",
        ["g" * 100, "has space", "bang!", "é-accent", "room\n", "", 123, None, b"bytes"],
    )
    async def test_invalid_group_names_raise_type_error(
        self, layer: ChannelLayer, name: Any
    ) -> None:
        """Invalid group names raise `TypeError` in every method taking one."""
        channel = await layer.new_channel()
        with pytest.raises(TypeError):
            await layer.group_add(name, channel)
        with pytest.raises(TypeError):
            await layer.group_discard(name, channel)
        with pytest.raises(TypeError):
            await layer.group_send(name, {"type": "test.broadcast"})

    async def test_longest_valid_names_work(self, layer: ChannelLayer) -> None:
        """Channel and group names of 99 characters are valid."""
        channel = "c" * 99
        group = "g" * 99
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "test.broadcast"})
        assert await self.receive(layer, channel) == {"type": "test.broadcast"}
        await layer.group_discard(group, channel)

    @pytest.mark.parametrize("message", ["text", ["type", "x"], None, 42])
    async def test_non_dict_messages_are_rejected(self, layer: ChannelLayer, message: Any) -> None:
        """A message that is not a dict raises `TypeError` or `ValueError`."""
        with pytest.raises((TypeError, ValueError)):
            await layer.send(_name("bad"), message)
        with pytest.raises((TypeError, ValueError)):
            await layer.group_send(_name("bad"), message)

    async def test_large_payloads(self, layer: ChannelLayer) -> None:
        """A message carrying a large string survives ``send`` and ``group_send``."""
        channel = await layer.new_channel()
        group = _name("group")
        text = "x" * self.large_payload_size
        await layer.send(channel, {"type": "test.large", "text": text})
        assert (await self.receive(layer, channel))["text"] == text
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "test.large", "text": text})
        assert (await self.receive(layer, channel))["text"] == text

    async def test_many_senders_and_receivers_lose_nothing(self, layer: ChannelLayer) -> None:
        """Concurrent senders and receivers lose, duplicate and reorder nothing."""
        channels = [_name(f"busy{index}") for index in range(4)]
        senders, per_sender = 4, 25
        received: dict[str, list[tuple[int, int]]] = {channel: [] for channel in channels}
        expected = senders * per_sender

        async def send_all(sender: int) -> None:
            for index in range(per_sender):
                for channel in channels:
                    message = {"type": "test.message", "sender": sender, "index": index}
                    while True:
                        try:
                            await layer.send(channel, message)
                            break
                        except self.channel_full_errors:
                            await anyio.sleep(0.001)  # back off until a receiver catches up

        async def receive_all(channel: str) -> None:
            while len(received[channel]) < expected:
                message = await layer.receive(channel)
                received[channel].append((message["sender"], message["index"]))

        with anyio.fail_after(self.timeout * 2):
            async with anyio.create_task_group() as tasks:
                for channel in channels:
                    tasks.start_soon(receive_all, channel)
                for sender in range(senders):
                    tasks.start_soon(send_all, sender)
        for messages in received.values():
            assert sorted(messages) == [(s, i) for s in range(senders) for i in range(per_sender)]
            for sender in range(senders):
                assert [i for s, i in messages if s == sender] == list(range(per_sender))

    async def test_cancelled_receive_loses_nothing(self, layer: ChannelLayer) -> None:
        """A receive cancelled while waiting does not swallow the next message."""
        channel = _name("cancel")
        with anyio.move_on_after(0.05):
            await layer.receive(channel)  # nothing to receive: cancelled while waiting
        await layer.send(channel, {"type": "test.message"})
        assert await self.receive(layer, channel) == {"type": "test.message"}

    async def test_receive_cancelled_as_a_message_arrives(self, layer: ChannelLayer) -> None:
        """A receive cancelled as its message arrives either returns it or leaves it queued."""
        channel = _name("cancel-race")

        async def receive_into(got: list[dict[str, Any]]) -> None:
            got.append(await layer.receive(channel))

        for round_ in range(20):
            got: list[dict[str, Any]] = []
            message = {"type": "test.message", "round": round_}
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(receive_into, got)
                for _ in range(round_ % 5):
                    await anyio.lowlevel.checkpoint()
                await layer.send(channel, message)
                for _ in range(round_ % 3):
                    await anyio.lowlevel.checkpoint()
                tasks.cancel_scope.cancel()
            if not got:
                got.append(await self.receive(layer, channel))
            assert got == [message]
        await layer.send(channel, {"type": "test.marker"})
        assert await self.receive(layer, channel) == {"type": "test.marker"}


_bound_tests(ChannelLayerConformance)
