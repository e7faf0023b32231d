"""A layer that fails while sockets leave their groups: one WARNING per burst, no tracebacks."""

from __future__ import annotations

import logging

import pytest

import chanx.core._consumer
from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core._repeats import RepeatedWarning
from chanx.core.layers import InMemoryChannelLayer
from chanx.testing import WebsocketCommunicator


class Member(AsyncJsonWebsocketConsumer):
    groups = ["leavers"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


async def test_a_layer_down_while_sockets_leave_logs_one_warning(
    memory_layer: InMemoryChannelLayer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def down(group: str, channel: str) -> None:
        raise ConnectionError("Redis did not answer within 10.0 s")

    monkeypatch.setattr(memory_layer, "group_discard", down)
    fresh = RepeatedWarning(logging.getLogger("chanx.consumer"))
    monkeypatch.setattr(chanx.core._consumer, "_LEAVE_FAILURES", fresh)
    for _ in range(5):
        async with WebsocketCommunicator(Member.as_asgi(), "/ws") as ws:
            await ws.send_json({"action": "ping"})
            assert (await ws.receive_json())["action"] == "pong"
    leaving = [r for r in caplog.records if "could not leave group" in r.getMessage()]
    assert [r.levelno for r in leaving] == [logging.WARNING]
    assert "Redis did not answer" in leaving[0].getMessage()
    assert fresh.repeats == 4
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_burst_is_one_line_and_the_next_says_how_many_it_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repeats = RepeatedWarning(logging.getLogger("tests.repeats"), quiet=3600)
    for index in range(3):
        repeats.warn("failed %d", index)
    assert [r.getMessage() for r in caplog.records] == [
        "failed 0; more in the next 3600 s are counted"
    ]
    repeats._last -= 3600  # the burst is over
    repeats.warn("failed %d", 9)
    assert caplog.records[-1].getMessage() == (
        "failed 9 (the previous burst had 2 more after its first line); "
        "more in the next 3600 s are counted"
    )
