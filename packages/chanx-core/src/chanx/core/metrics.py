"""Prometheus metrics for Chanx WebSocket endpoints and channel layers.

Needs the ``prometheus`` extra (``pip install "chanx-core[prometheus]"``). Nothing in Chanx
counts anything unless you wrap an app here: an ASGI middleware watches the WebSocket
messages going in and out of the app (so it works for any consumer under any adapter), and
the channel layers' own counters are read when Prometheus scrapes, not on every message.

    metrics = PrometheusMetrics()
    app = metrics.wrap(app)                     # count connections, frames, errors
    app.mount("/metrics", prometheus_client.make_asgi_app())   # or start_http_server(9100)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from chanx.core.layers import ChannelLayer, registered_channel_layers
from chanx.core.types import ASGIApp, Message, Receive, Scope, Send

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
    from prometheus_client.core import CounterMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError as exc:  # pragma: no cover - exercised where the extra is missing
    raise ImportError(
        'chanx.core.metrics needs the prometheus extra: pip install "chanx-core[prometheus]"',
        name=exc.name,
    ) from exc

__all__ = ["PrometheusMetrics"]

# Closes that end a connection normally, not a refusal, even before the first client frame.
_NORMAL_CLOSES = frozenset({1000, 1001})
_ERROR_PREFIX = '{"action":"error"'


class PrometheusMetrics:
    """The Chanx metrics, registered in a Prometheus registry.

    Metrics (``chanx`` is the default ``namespace``):

    - ``chanx_connections_open`` (gauge): WebSocket connections accepted and not yet closed.
    - ``chanx_connections_total``: connections accepted.
    - ``chanx_frames_received_total`` / ``chanx_frames_sent_total``: WebSocket frames.
    - ``chanx_error_frames_total{code}``: error frames sent, by their ``payload.code``.
    - ``chanx_refusals_total{code}``: connections the server closed (or denied during the
      handshake) before the client sent any frame, by close code, or HTTP status for a
      denied handshake: authentication (4401/4403), origins, capacity (1013), ...
    - ``chanx_layer_drops_total{layer, cause}``: messages a channel layer dropped:
      ``channel_full`` (a send refused with ChannelFull), ``group_full`` (a group member
      skipped because its channel was full), ``expired``.
    - ``chanx_layer_possible_losses_total{layer}``: outages in which a layer may have lost
      messages (each one is also logged).

    The layers are the ones registered by alias (`register_channel_layer`) plus any passed
    to `watch_layer`; layers without counters (e.g. a Channels backend) are skipped.

    Args:
        registry: Where to register (default: prometheus_client's global registry).
        namespace: Prefix of every metric name.
    """

    def __init__(
        self, *, registry: CollectorRegistry | None = None, namespace: str = "chanx"
    ) -> None:
        registry = REGISTRY if registry is None else registry
        counter = partial(Counter, namespace=namespace, registry=registry)
        gauge = partial(Gauge, namespace=namespace, registry=registry)
        self.connections_open = gauge(
            "connections_open", "WebSocket connections accepted and not yet closed"
        )
        self.connections = counter("connections", "WebSocket connections accepted")
        self.frames_received = counter("frames_received", "Frames received from clients")
        self.frames_sent = counter("frames_sent", "Frames sent to clients")
        self.error_frames = counter(
            "error_frames", "Error frames sent to clients, by error code", ["code"]
        )
        self.refusals = counter(
            "refusals",
            "Connections closed or denied by the server before the client's first frame, "
            "by close code (HTTP status for a denied handshake)",
            ["code"],
        )
        self._watched: dict[str, ChannelLayer] = {}
        registry.register(_LayerCollector(namespace, self._layers))

    def watch_layer(self, layer: ChannelLayer, name: str) -> None:
        """Export the counters of ``layer`` (one not registered by alias) as ``name``."""
        self._watched[name] = layer

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Return ``app`` with its WebSocket traffic counted (other scopes pass through)."""
        return _MetricsMiddleware(app, self)

    def _layers(self) -> Mapping[str, ChannelLayer]:
        return {**registered_channel_layers(), **self._watched}


class _MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        socket = _Socket(self.metrics)

        async def counting_receive() -> Message:
            message = await receive()
            socket.received(message)
            return message

        async def counting_send(message: Message) -> None:
            await send(message)
            socket.sent(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            socket.ended()


class _Socket:
    """What the middleware knows about one connection."""

    __slots__ = ("accepted", "frames_in", "metrics", "open")

    def __init__(self, metrics: PrometheusMetrics) -> None:
        self.metrics = metrics
        self.accepted = False
        self.open = False
        self.frames_in = 0

    def received(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.receive":
            self.frames_in += 1
            self.metrics.frames_received.inc()
        elif kind == "websocket.disconnect":
            self.ended()

    def sent(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            self.metrics.frames_sent.inc()
            text = message.get("text")
            if text is not None and text.startswith(_ERROR_PREFIX):
                self.metrics.error_frames.labels(_error_code(text)).inc()
        elif kind == "websocket.accept":
            self.accepted = self.open = True
            self.metrics.connections.inc()
            self.metrics.connections_open.inc()
        elif kind == "websocket.close":
            code = int(message.get("code", 1000))
            if not self.accepted or (self.frames_in == 0 and code not in _NORMAL_CLOSES):
                self.metrics.refusals.labels(str(code)).inc()
            self.ended()
        elif kind == "websocket.http.response.start":
            self.metrics.refusals.labels(str(message.get("status", 403))).inc()

    def ended(self) -> None:
        if self.open:
            self.open = False
            self.metrics.connections_open.dec()


def _error_code(text: str) -> str:
    try:
        return str(json.loads(text)["payload"]["code"])
    except (ValueError, KeyError, TypeError):
        return "unknown"


# Layer counters by (attribute, cause); the first found on a layer's stats wins.
_DROPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("channel_full", ("channel_full",)),
    ("group_full", ("group_drops", "dropped_on_full")),
    ("expired", ("expired", "dropped_expired")),
)


class _LayerCollector(Collector):
    def __init__(self, namespace: str, layers: Any) -> None:
        self.namespace = namespace
        self.layers = layers

    def collect(self) -> Iterable[Metric]:
        drops = CounterMetricFamily(
            f"{self.namespace}_layer_drops",
            "Messages a channel layer dropped, by cause",
            labels=["layer", "cause"],
        )
        losses = CounterMetricFamily(
            f"{self.namespace}_layer_possible_losses",
            "Outages in which a channel layer may have lost messages (each is logged)",
            labels=["layer"],
        )
        for name, counters in self._counters():
            for cause, attributes in _DROPS:
                value = next((counters[a] for a in attributes if a in counters), None)
                if value is not None:
                    drops.add_metric([name, cause], value)
            if "possible_loss" in counters:
                losses.add_metric([name], counters["possible_loss"])
        yield drops
        yield losses

    def _counters(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, layer in sorted(self.layers().items()):
            stats = getattr(layer, "stats", None)
            if stats is not None and callable(getattr(stats, "as_dict", None)):
                yield name, dict(stats.as_dict())
                continue
            found = {a: getattr(layer, a, None) for a in ("dropped_on_full", "dropped_expired")}
            found = {a: v for a, v in found.items() if isinstance(v, int)}
            if found:
                yield name, found
