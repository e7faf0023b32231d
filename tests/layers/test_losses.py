"""One WARNING per incident: repeats are counted quietly and summed up when it closes.

`LossReporter` is what the Redis and RabbitMQ layers report losses through.
"""

from __future__ import annotations

import logging
from collections import deque

import pytest

from chanx.core.layers import LossReporter
from chanx.core.layers import _losses as losses_module
from chanx.core.layers._losses import QUIET_SECONDS
from chanx.redis import LossIncident


class _FakeTime:
    def __init__(self, now: list[float]) -> None:
        self.now = now

    def time(self) -> float:
        return self.now[0]


def test_repeats_of_a_cause_are_one_incident(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(losses_module, "time", _FakeTime(now))
    kept: deque[LossIncident] = deque(maxlen=100)
    reporter = LossReporter(
        logging.getLogger("tests.layers.losses"), lambda *found: kept.append(LossIncident(*found))
    )
    caplog.set_level(logging.WARNING, logger="tests.layers.losses")
    reporter.occurrence("undecodable", now[0] - 0.5, "a bad message")
    for _ in range(4):
        now[0] += 1
        reporter.occurrence("undecodable", now[0], "a bad message")
    assert len(caplog.records) == 1
    reporter.close(quiet_only=True)  # still noisy: stays open
    assert len(caplog.records) == 1
    now[0] += QUIET_SECONDS + 1
    reporter.close(quiet_only=True)
    first, summary = kept
    assert (first.start, first.end, first.count) == (999_999.5, 1_000_000.0, 1)
    assert (summary.start, summary.end, summary.count) == (1_000_000.0, 1_000_004.0, 4)
    assert len(caplog.records) == 2
    summary_line = caplog.records[1].getMessage()
    assert "window" in summary_line
    assert "4 more after the first line" in summary_line  # the count is in the line itself
    # After a quiet spell the next one opens a new incident, logged at once.
    reporter.occurrence("undecodable", now[0], "a bad message")
    assert len(caplog.records) == 3
    assert len(kept) == 3


def test_the_summary_counts_the_distinct_names_an_incident_touched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reporter = LossReporter(logging.getLogger("tests.layers.losses.names"))
    caplog.set_level(logging.WARNING, logger="tests.layers.losses.names")
    for channel in ["a!1", "b!2", "a!1", "c!3", "b!2"]:
        reporter.occurrence("group_drop", 0.0, f"channel {channel!r} was full", subject=channel)
    reporter.close()
    first, summary = (record.getMessage() for record in caplog.records)
    assert "'a!1'" in first
    assert "4 more after the first line, 3 distinct names in all, which said:" in summary


def test_a_summary_without_names_says_nothing_of_them(caplog: pytest.LogCaptureFixture) -> None:
    reporter = LossReporter(logging.getLogger("tests.layers.losses.plain"))
    caplog.set_level(logging.WARNING, logger="tests.layers.losses.plain")
    for _ in range(3):
        reporter.occurrence("undecodable", 0.0, "a bad message")
    reporter.close()
    assert "2 more after the first line, which said:" in caplog.records[-1].getMessage()
