"""Counters the Redis layer keeps, so drops and outages are visible instead of silent."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from chanx.core.layers import LayerStats

__all__ = ["LossIncident", "RedisLayerStats"]

KEPT_INCIDENTS = 100


@dataclass(frozen=True)
class LossIncident:
    """Messages may have been lost between ``start`` and ``end`` (Unix times) for ``cause``.

    Attributes:
        cause: what happened: ``"redis_restart"``, ``"eviction"``, ``"memberships_lost"``,
            ``"connection_lost"``, ``"undecodable"``, ``"group_drop"`` (a full member
            skipped) or ``"expired"`` (a message older than ``expiry`` on arrival).
        start: the earliest moment a lost message may have been sent.
        end: the moment the layer had healed (or the last occurrence).
        count: how many messages, keys or memberships it concerned (0: unknown).
        detail: the log line's explanation.
    """

    cause: str
    start: float
    end: float
    count: int
    detail: str


@dataclass
class RedisLayerStats(LayerStats):
    """Running totals for one `RedisChannelLayer` (all event loops together).

    Attributes:
        sent: messages accepted by ``send``.
        received: messages returned by ``receive``.
        channel_full: sends refused with `ChannelFull`.
        group_sends: ``group_send`` calls.
        group_deliveries: group members a ``group_send`` reached or, for channels read by
            another process, handed to Redis for that process.
        group_drops: group members skipped because their channel was full; a channel read by
            another process is skipped, and counted, by that process's layer.
        expired: messages dropped because they outlived ``expiry``.
        disconnects: times a background reader lost its connection to Redis.
        reconnects: times a background reader got its connection back.
        redis_restarts: reconnects that found a restarted server (its queued data is gone).
        possible_loss: outage events in which messages may have been lost; each is logged.
        undecodable: messages skipped because this layer's serializer could not read them
            (a process configured with another serializer sent them).
        evicted_keys: keys Redis reported evicting (``maxmemory``); memberships and queued
            messages may be among them.
        memberships_restored: this process's memberships found missing in Redis (evicted,
            lost in a restart, flushed) and written back.
        incidents: the latest loss incidents (at most 100), each logged once as a WARNING.
    """

    redis_restarts: int = 0
    undecodable: int = 0
    evicted_keys: int = 0
    memberships_restored: int = 0
    incidents: deque[LossIncident] = field(
        default_factory=lambda: deque(maxlen=KEPT_INCIDENTS), compare=False, repr=False
    )

    def record_incident(
        self, cause: str, start: float, end: float, count: int, detail: str
    ) -> None:
        """Keep one logged incident among the latest (`LossReporter`'s ``on_incident``)."""
        self.incidents.append(LossIncident(cause, start, end, count, detail))
