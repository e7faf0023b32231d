"""Counters the RabbitMQ layer keeps, so drops and outages are visible instead of silent."""

from __future__ import annotations

from dataclasses import dataclass

from chanx.core.layers import LayerStats

__all__ = ["RabbitMQLayerStats"]


@dataclass
class RabbitMQLayerStats(LayerStats):
    """Running totals for one `RabbitMQChannelLayer` (all event loops together).

    Attributes:
        sent: messages the broker accepted from ``send``.
        received: messages returned by ``receive``.
        channel_full: sends refused with `ChannelFull`.
        group_sends: ``group_send`` calls the broker accepted (one publish each).
        group_deliveries: group messages this process handed to its own member channels.
        group_drops: group messages this process skipped for a full member channel.
        full_drops: direct messages from another process dropped here because their
            channel was full (that sender could not be told; each is logged).
        refused: group publishes the broker refused for at least one full queue.
        unroutable: direct sends to a process channel whose process has no queue.
        expired: messages dropped because they outlived ``expiry``.
        duplicates: redelivered messages dropped because they had already arrived.
        disconnects: times the connection to the broker was lost.
        reconnects: times it came back (queues and bindings declared again).
        possible_loss: reconnects that found this process's queue gone (a broker restart,
            or an outage longer than ``queue_expiry``): what was queued there is lost.
    """

    full_drops: int = 0
    refused: int = 0
    unroutable: int = 0
    duplicates: int = 0
