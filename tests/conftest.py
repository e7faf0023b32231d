"""Shared fixtures: services that some tests need.

Locally a missing service skips its tests with a reason; under ``CI=true`` it fails them,
so CI never passes by skipping. The same holds for every other skip (a missing optional
module behind ``importorskip``, a ``skipif`` on a missing program): under ``CI=true`` a
skipped test is reported as a failure, in every session (locked, lowest and newest versions).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Generator, Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import settings

from chanx.core.layers import (
    InMemoryChannelLayer,
    register_channel_layer,
    unregister_channel_layer,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis's default 200 ms deadline measures the machine's load as much as the code: under
# CI (two cores shared with other jobs) an example that is slow once fails the run. The "ci"
# profile drops the deadline (pytest-timeout still bounds every test), keeps the example
# count of a local run, keeps no example database (a fresh clone has none to reuse) and prints
# the blob that reproduces a failure. HYPOTHESIS_PROFILE picks another profile explicitly.
settings.register_profile("ci", deadline=None, max_examples=100, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "default"))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI) unless ``host:port`` accepts TCP connections."""
    if _port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI, turn a skip into a failure that says what was missing."""
    report: pytest.TestReport = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        reason = str(reason).removeprefix("Skipped: ")
        report.longrepr = f"skipped under CI=true, where nothing may be: {reason}"
    return report


@pytest.fixture
def redis_url() -> str:
    """URL of the machine's Redis (127.0.0.1:6379 unless CHANX_TEST_REDIS_URL says else)."""
    url = os.environ.get("CHANX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    require_service("Redis", host or "127.0.0.1", int(port or 6379))
    return url


@pytest.fixture
def amqp_url() -> str:
    """URL of the machine's RabbitMQ (127.0.0.1:5672 unless CHANX_TEST_AMQP_URL says else)."""
    url = os.environ.get("CHANX_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    parts = urlsplit(url)
    require_service("RabbitMQ", parts.hostname or "127.0.0.1", parts.port or 5672)
    return url


@pytest.fixture
def memory_layer() -> Iterator[InMemoryChannelLayer]:
    """A fresh in-memory layer registered as "default" for the duration of one test."""
    layer = InMemoryChannelLayer()
    previous = unregister_channel_layer("default")
    register_channel_layer("default", layer)
    yield layer
    unregister_channel_layer("default")
    if previous is not None:
        register_channel_layer("default", previous)
