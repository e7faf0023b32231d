"""The counters every Chanx layer backend keeps, for `PrometheusMetrics` and for logs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["LayerStats"]


@dataclass
class LayerStats:
    """Running totals a layer exposes as ``layer.stats``; backends subclass it to add theirs.

    `chanx.core.metrics.PrometheusMetrics` exports what `as_dict` returns, so a
    third-party layer whose ``stats`` is a subclass gets its drops and losses exported too.
    A field declared with ``compare=False`` (a buffer of recent incidents, say) is left out.

    Attributes:
        sent: messages accepted by ``send``.
        received: messages returned by ``receive``.
        channel_full: sends refused with `ChannelFull`.
        group_sends: ``group_send`` calls.
        group_deliveries: group members a ``group_send`` reached.
        group_drops: group members skipped because their channel was full.
        expired: messages dropped because they outlived the layer's expiry.
        disconnects: times the connection to the backend was lost.
        reconnects: times it came back.
        possible_loss: outages in which messages may have been lost; each is logged.
    """

    sent: int = 0
    received: int = 0
    channel_full: int = 0
    group_sends: int = 0
    group_deliveries: int = 0
    group_drops: int = 0
    expired: int = 0
    disconnects: int = 0
    reconnects: int = 0
    possible_loss: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as a plain dict (for logs and metrics)."""
        return {item.name: getattr(self, item.name) for item in fields(self) if item.compare}
