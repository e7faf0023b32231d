"""A readiness probe for a channel layer: one message through the layer and back."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from chanx.core.layers._base import ChannelLayer
from chanx.core.layers._registry import get_channel_layer

__all__ = ["LayerHealth", "check_channel_layer"]

logger = logging.getLogger("chanx.layers")

HEALTH_EVENT_TYPE = "chanx.health_check"
# A plain channel (no "!"), so that backends which keep process-specific channels in memory
# still carry the probe through their server; one per process, so that repeated checks do
# not each leave a reader behind.
_PROBE_CHANNEL = f"chanx.health.{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class LayerHealth:
    """The outcome of `check_channel_layer`.

    Attributes:
        ok: The probe message came back, unchanged, within the timeout.
        layer: The layer's class name (``"RedisChannelLayer"``), for logs and health pages.
        latency: Seconds from send to receipt when ``ok``, else ``None``.
        error: What went wrong when not ``ok`` (``"TimeoutError: no reply within 2.0 s"``).
    """

    ok: bool
    layer: str
    latency: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, e.g. the body of a health endpoint."""
        return {"ok": self.ok, "layer": self.layer, "latency": self.latency, "error": self.error}


async def check_channel_layer(
    layer: ChannelLayer | str = "default",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - the deadline is part of what the probe checks
) -> LayerHealth:
    """Send one probe message through ``layer`` and receive it back.

    The probe goes to a normal (not process-specific) channel, so it makes a round trip
    through the backend's server (for Redis: a connection, the delivery script, a blocking
    pop); a passing check means this process can deliver messages right now. Any
    Channels-spec layer works, e.g. ``channels.layers.get_channel_layer()`` under Django.

    Args:
        layer: A layer instance, or the alias it is registered under.
        timeout: Seconds the whole round trip may take.

    Returns:
        A `LayerHealth`; a failing layer is reported, never raised (the failure is also
        logged as a WARNING on ``chanx.layers``).

    Raises:
        LookupError: ``layer`` is an alias that names no registered layer.
    """
    instance = get_channel_layer(layer) if isinstance(layer, str) else layer
    name = type(instance).__name__
    probe = {"type": HEALTH_EVENT_TYPE, "nonce": secrets.token_hex(8)}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await instance.send(_PROBE_CHANNEL, dict(probe))
            received = await instance.receive(_PROBE_CHANNEL)
            # A probe of an earlier check that timed out may still be queued: skip it.
            while received.get("type") == HEALTH_EVENT_TYPE and received != probe:
                received = await instance.receive(_PROBE_CHANNEL)
    except TimeoutError:
        error = f"TimeoutError: no reply within {timeout} s"
    except Exception as exc:  # a health check reports every failure of the backend
        error = f"{type(exc).__name__}: {exc}"
    else:
        if received == probe:
            return LayerHealth(True, name, latency=time.perf_counter() - started)
        error = f"the layer returned {received!r} instead of the probe message"
    logger.warning("channel layer health check failed (%s): %s", name, error)
    return LayerHealth(False, name, error=error)
