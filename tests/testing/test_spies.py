"""CaptureLayer records what consumers send to channels and groups, delivering or not."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import anyio
import pytest
from asgiref.sync import async_to_sync

from chanx.core.layers import ChannelLayer, InMemoryChannelLayer
from chanx.testing import CapturedSend, CaptureLayer, WebsocketCommunicator
from chanx.testing.layers import ChannelLayerConformance
from tests.testing.consumers import ForumConsumer, ModeratedEvent, PostNotice

POST = {"action": "post", "payload": {"title": "Hello", "author": {"name": "ann"}}}
REPLY = {
    "action": "post_reply",
    "payload": {
        "title": "Hello",
        "author": {"name": "ann", "karma": 0},
        "tags": [],
        "score": None,
        "mood": "happy",
        "counts": {},
        "point": None,
    },
}


class TestCaptureLayerConformance(ChannelLayerConformance):
    """The wrapper is a channel layer in its own right."""

    capacity = 10
    expiry = 1.0
    group_expiry = 1.0

    @pytest.fixture
    async def layer(self) -> AsyncIterator[ChannelLayer]:
        inner = InMemoryChannelLayer(capacity=10, expiry=1, group_expiry=1)
        yield CaptureLayer(inner)
        await inner.flush()


def test_satisfies_the_protocol() -> None:
    assert isinstance(CaptureLayer(InMemoryChannelLayer()), ChannelLayer)


async def test_records_and_delivers_a_broadcast(chanx_capture: CaptureLayer) -> None:
    async with (
        WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as author,
        WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as reader,
    ):
        await author.send_json(POST)
        await chanx_capture.wait_for(1)
        assert chanx_capture.frames("forum") == [{"action": "post_notice", "payload": "Hello"}]
        assert chanx_capture.messages(PostNotice) == [PostNotice(payload="Hello")]
        assert await reader.receive_json() == {"action": "post_notice", "payload": "Hello"}
        [record] = chanx_capture.records
        assert (record.kind, record.target, record.delivered) == ("group_send", "forum", True)
        assert record.excluded_channel is None


async def test_suppressed_delivery_still_records(chanx_capture: CaptureLayer) -> None:
    chanx_capture.deliver = False
    async with WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as ws:
        await ws.send_json(POST)
        assert await ws.receive_all_messages() == [REPLY]  # no post_notice came back
        assert await ws.receive_nothing()
        [record] = chanx_capture.sent_to("forum")
        assert record.frame == {"action": "post_notice", "payload": "Hello"}
        assert not record.delivered


async def test_events_are_kept_apart_from_frames(chanx_capture: CaptureLayer) -> None:
    async with WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as ws:
        await ForumConsumer.broadcast_event(ModeratedEvent(title="Spam", removed=True))
        assert await ws.receive_json() == {"action": "moderation", "payload": "Spam"}
    moderated = {"type": "moderated", "title": "Spam", "removed": True}
    assert chanx_capture.events("forum", event_type="moderated") == [moderated]
    assert chanx_capture.events(event_type="other") == []
    assert chanx_capture.frames() == []
    with pytest.raises(ValueError, match="expected a broadcast frame"):
        _ = chanx_capture.records[0].frame


async def test_direct_send_is_recorded_with_its_channel() -> None:
    capture = CaptureLayer(InMemoryChannelLayer(), deliver=False)
    channel = await capture.new_channel()
    await capture.send(channel, {"type": "chanx.send", "text": '{"action":"x"}', "exclude": "a"})
    assert capture.records == [
        CapturedSend(
            "send", channel, {"type": "chanx.send", "text": '{"action":"x"}', "exclude": "a"}, False
        )
    ]
    assert capture.records[0].excluded_channel == "a"
    capture.clear()
    assert capture.records == []


async def test_wait_for_wakes_on_a_send_from_another_thread() -> None:
    capture = CaptureLayer(InMemoryChannelLayer())

    def sync_code() -> None:  # a view or a Celery task
        async_to_sync(capture.group_send)("forum", {"type": "moderated", "title": "t"})

    thread = threading.Thread(target=sync_code)
    with anyio.fail_after(5):
        waiting = capture.wait_for(lambda records: any(r.target == "forum" for r in records))
        thread.start()
        records = await waiting
    thread.join(timeout=5)
    assert [r.message["title"] for r in records] == ["t"]


async def test_wait_for_times_out_showing_what_was_captured() -> None:
    capture = CaptureLayer(InMemoryChannelLayer())
    await capture.group_send("forum", {"type": "moderated", "title": "only one"})
    with pytest.raises(TimeoutError, match="only one"):
        await capture.wait_for(2, timeout=0.05)
