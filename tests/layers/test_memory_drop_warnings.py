"""Group sends that drop for full members are visible: WARNINGs naming channels and counts."""

from __future__ import annotations

import logging

import anyio
import pytest

from chanx.core.layers import InMemoryChannelLayer


async def test_a_burst_of_group_sends_logs_the_drops(caplog: pytest.LogCaptureFixture) -> None:
    layer = InMemoryChannelLayer(capacity=100)
    layer.drop_log.interval = 0.1
    members = [await layer.new_channel() for _ in range(3)]
    for channel in members:
        await layer.group_add("room", channel)
    with caplog.at_level(logging.WARNING, logger="chanx.layers.memory"):
        for i in range(500):  # one loop iteration: nobody reads in between
            await layer.group_send("room", {"type": "tick", "i": i})
        with anyio.fail_after(2):
            while len(caplog.records) < 2:  # noqa: ASYNC110 - the summary comes on a timer
                await anyio.sleep(0.02)
    assert layer.dropped_on_full == 3 * 400
    first, summary = (r.getMessage() for r in caplog.records)
    assert "'room'" in first
    assert all(channel in first for channel in members)
    assert "capacity 100" in first
    # the summary names every channel with its count: 400 each, one already logged
    assert "1197 more" in summary
    assert all(f"'{channel}' (399)" in summary for channel in members)
    assert len(caplog.records) == 2


async def test_drops_after_a_quiet_period_are_logged_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = InMemoryChannelLayer(capacity=1)
    layer.drop_log.interval = 0.05
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "tick"})
    with caplog.at_level(logging.WARNING, logger="chanx.layers.memory"):
        await layer.group_send("room", {"type": "tick"})
        assert len(caplog.records) == 1
        await anyio.sleep(0.1)
        await layer.group_send("room", {"type": "tick"})
    assert len(caplog.records) == 2
    assert layer.dropped_on_full == 2
