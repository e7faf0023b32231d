"""The Prometheus metrics hook, scraped over HTTP the way Prometheus reads it."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.parser import text_string_to_metric_families

from chanx.core.layers import ChannelFull, InMemoryChannelLayer
from chanx.core.metrics import PrometheusMetrics
from chanx.testing import WebsocketCommunicator
from tests.core.consumers import AuthConsumer


async def _scrape(
    registry: CollectorRegistry,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    transport = httpx.ASGITransport(app=make_asgi_app(registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
        response = await client.get("/")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_connections_frames_errors_and_refusals(memory_layer: InMemoryChannelLayer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry=registry)
    app = metrics.wrap(AuthConsumer.as_asgi())

    async with WebsocketCommunicator(app, "/ws?token=good-token") as ws:
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"
        await ws.send_text("{not json")
        assert (await ws.receive_json())["payload"]["code"] == "invalid_json"
        await ws.send_json({"action": "nope"})
        assert (await ws.receive_json())["payload"]["code"] == "unknown_action"
        during = await _scrape(registry)
        assert during[("chanx_connections_open", ())] == 1

    refused = WebsocketCommunicator(app, "/ws?token=wrong")
    await refused.connect()
    await refused.receive_json()
    await refused.assert_closed(4401)
    await refused.disconnect()

    after = await _scrape(registry)
    assert after[("chanx_connections_open", ())] == 0
    assert after[("chanx_connections_total", ())] == 2
    assert after[("chanx_frames_received_total", ())] == 3
    # pong + two error frames, then the refused socket's "unauthenticated" error frame
    assert after[("chanx_frames_sent_total", ())] == 4
    assert after[("chanx_error_frames_total", (("code", "invalid_json"),))] == 1
    assert after[("chanx_error_frames_total", (("code", "unknown_action"),))] == 1
    assert after[("chanx_error_frames_total", (("code", "unauthenticated"),))] == 1
    assert after[("chanx_refusals_total", (("code", "4401"),))] == 1


async def test_layer_drops_are_read_at_scrape_time(memory_layer: InMemoryChannelLayer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry=registry)
    small = InMemoryChannelLayer(capacity=1)
    metrics.watch_layer(small, "small")
    channel = await small.new_channel()
    await small.group_add("room", channel)
    await small.group_send("room", {"type": "a"})
    await small.group_send("room", {"type": "b"})  # the member is full: dropped, counted
    with pytest.raises(ChannelFull):
        await small.send(channel, {"type": "c"})

    samples = await _scrape(registry)
    assert samples[("chanx_layer_drops_total", (("cause", "group_full"), ("layer", "small")))] == 1
    assert samples[("chanx_layer_drops_total", (("cause", "expired"), ("layer", "small")))] == 0
    # The registered default layer is exported too, under its alias.
    assert ("chanx_layer_drops_total", (("cause", "group_full"), ("layer", "default"))) in samples


def test_a_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "chanx.core.metrics", raising=False)
    with pytest.raises(ImportError, match=r'pip install "chanx-core\[prometheus\]"'):
        import chanx.core.metrics  # noqa: F401
