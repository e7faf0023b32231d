from __future__ import annotations

import logging
import sys
import threading
import types
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from chanx.core.layers import (
    ChannelLayer,
    InMemoryChannelLayer,
    _registry,
    get_channel_layer,
    register_channel_layer,
    unregister_channel_layer,
)

GROUP = "chanx.layers"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CHANX_DISABLE_PLUGINS", raising=False)
    _registry._reset()
    yield
    _registry._reset()


class FakeEntryPoints:
    """Stands in for ``importlib.metadata.entry_points`` and counts its calls."""

    def __init__(self, *entry_points: EntryPoint) -> None:
        self.entry_points = entry_points
        self.calls = 0

    def __call__(self, *, group: str) -> tuple[EntryPoint, ...]:
        assert group == GROUP
        self.calls += 1
        return self.entry_points


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Install a third-party ``fake://`` layer plugin; returns the factory's calls."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def make_layer(url: str, **options: Any) -> ChannelLayer:
        calls.append((url, options))
        return InMemoryChannelLayer(**options)

    module = types.ModuleType("chanx_fake_layer_plugin")
    module.make_layer = make_layer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    fake = FakeEntryPoints(
        EntryPoint(name="fake", value="chanx_fake_layer_plugin:make_layer", group=GROUP),
        EntryPoint(name="broken", value="chanx_no_such_module_anywhere:make", group=GROUP),
        EntryPoint(name="redis", value="chanx_no_such_module_anywhere:make", group=GROUP),
    )
    monkeypatch.setattr(_registry, "entry_points", fake)
    return calls


def test_default_is_an_in_memory_layer_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="chanx.layers"):
        layer = get_channel_layer()
        assert get_channel_layer("default") is layer
        assert unregister_channel_layer("default") is layer
        assert get_channel_layer() is not layer
    assert isinstance(layer, InMemoryChannelLayer)
    messages = [r.getMessage() for r in caplog.records if r.name == "chanx.layers"]
    assert len(messages) == 1
    assert "in-memory" in messages[0]


def test_default_is_created_once_across_threads() -> None:
    layers: list[ChannelLayer] = []
    start = threading.Barrier(8)

    def get() -> None:
        start.wait(timeout=5)
        layers.append(get_channel_layer())

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert len(layers) == 8
    assert all(layer is layers[0] for layer in layers)


def test_unknown_alias_says_how_to_register() -> None:
    with pytest.raises(LookupError, match=r"'chat'.*register_channel_layer\('chat'"):
        get_channel_layer("chat")


def test_register_an_instance() -> None:
    layer = InMemoryChannelLayer()
    assert register_channel_layer("chat", layer) is layer
    assert get_channel_layer("chat") is layer
    replacement = InMemoryChannelLayer()
    register_channel_layer("chat", replacement)
    assert get_channel_layer("chat") is replacement
    assert unregister_channel_layer("chat") is replacement
    assert unregister_channel_layer("chat") is None


@pytest.mark.parametrize(
    ("alias", "layer", "options", "match"),
    [
        ("chat", InMemoryChannelLayer(), {"capacity": 3}, "Options only apply"),
        ("chat", object(), {}, "Expected a channel layer"),
        ("", InMemoryChannelLayer(), {}, "non-empty string"),
        (None, InMemoryChannelLayer(), {}, "but got None"),
    ],
)
def test_register_rejects_bad_arguments(
    alias: Any, layer: Any, options: dict[str, Any], match: str
) -> None:
    with pytest.raises(TypeError, match=match):
        register_channel_layer(alias, layer, **options)


def test_register_a_memory_url() -> None:
    layer = register_channel_layer("default", "memory://?capacity=5", expiry=3)
    assert isinstance(layer, InMemoryChannelLayer)
    assert (layer.capacity, layer.expiry) == (5, 3)
    assert get_channel_layer() is layer


def test_unknown_scheme_lists_known_schemes() -> None:
    with pytest.raises(ValueError, match=r"'nats'.*memory.*redis"):
        register_channel_layer("default", "nats://localhost")


def test_url_without_scheme() -> None:
    with pytest.raises(ValueError, match="'localhost:6379'"):
        register_channel_layer("default", "localhost:6379")


def test_third_party_entry_point(plugin: list[tuple[str, dict[str, Any]]]) -> None:
    layer = register_channel_layer("a", "fake://host/1", capacity=4)
    register_channel_layer("b", "FAKE://other")
    assert isinstance(layer, InMemoryChannelLayer)
    assert layer.capacity == 4
    assert plugin == [("fake://host/1", {"capacity": 4}), ("FAKE://other", {})]
    assert _registry.entry_points.calls == 1  # type: ignore[attr-defined]


def test_missing_optional_dependency_gives_an_install_hint(
    plugin: list[tuple[str, dict[str, Any]]],
) -> None:
    with pytest.raises(ImportError, match=r"pip install chanx-redis") as caught:
        register_channel_layer("default", "redis://localhost:6379/0")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    with pytest.raises(ImportError, match="install the package that provides it"):
        register_channel_layer("default", "broken://")


@pytest.mark.parametrize(
    ("url", "package"),
    [("rediss://h:6380/0", "chanx-redis"), ("redis+cluster://n1:7000", "chanx-redis")],
)
def test_well_known_scheme_without_its_package_names_the_package(
    monkeypatch: pytest.MonkeyPatch, url: str, package: str
) -> None:
    monkeypatch.setattr(_registry, "entry_points", FakeEntryPoints())
    with pytest.raises(ImportError, match=rf"pip install {package}"):
        register_channel_layer("default", url)


def test_redis_schemes_come_from_chanx_redis_entry_points() -> None:
    discovered = _registry._discover()
    for scheme in ("redis", "rediss", "redis+sentinel", "redis+cluster"):
        entry_point = discovered[scheme]
        assert entry_point.dist is not None
        assert entry_point.dist.name == "chanx-redis"
        assert entry_point.value == "chanx.redis:RedisChannelLayer.from_url"


@pytest.mark.parametrize("value", ["1", "true", "__all__"])
def test_disabling_plugins_keeps_memory(
    plugin: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CHANX_DISABLE_PLUGINS", value)
    with pytest.raises(ValueError, match="'fake'"):
        register_channel_layer("default", "fake://")
    assert isinstance(register_channel_layer("default", "memory://"), InMemoryChannelLayer)
    assert _registry.entry_points.calls == 0  # type: ignore[attr-defined]


def test_disabling_named_plugins(
    plugin: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANX_DISABLE_PLUGINS", "broken, fake")
    with pytest.raises(ValueError, match="'fake'"):
        register_channel_layer("default", "fake://")
    assert isinstance(register_channel_layer("default", "memory://"), InMemoryChannelLayer)


def test_memory_is_core_s_own_scheme_not_a_plugin() -> None:
    assert "memory" not in _registry._discover()  # one source: not listed twice
    assert isinstance(register_channel_layer("default", "memory://"), InMemoryChannelLayer)


def test_lookup_never_creates_the_default() -> None:
    assert _registry.lookup_channel_layer("default") is None
    layer = register_channel_layer("chat", "memory://")
    assert _registry.lookup_channel_layer("chat") is layer
    assert _registry.lookup_channel_layer("default") is None
