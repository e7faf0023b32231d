"""Shared fixtures: services that some tests need.

Locally a missing service skips its tests with a reason; under ``CI=true`` it fails them,
so CI never passes by skipping.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from chanx.core.layers import (
    InMemoryChannelLayer,
    register_channel_layer,
    unregister_channel_layer,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
