"""chanx.rabbitmq exports exactly its public names, sorted, and registers its URL schemes."""

from __future__ import annotations
import __future__

import importlib.metadata
import types

import chanx.rabbitmq


def test_all_is_sorted_and_lists_every_public_name() -> None:
    exported = chanx.rabbitmq.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(chanx.rabbitmq).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert set(exported) - {"__version__"} == public
    for name in public:
        assert getattr(chanx.rabbitmq, name).__module__.startswith("chanx.rabbitmq.")


def test_version_comes_from_package_metadata() -> None:
    assert chanx.rabbitmq.__version__ == importlib.metadata.version("chanx-rabbitmq")


def test_entry_points_name_the_public_factory() -> None:
    found = {
        ep.name: ep.value
        for ep in importlib.metadata.entry_points(group="chanx.layers")
        if ep.dist is not None and ep.dist.name == "chanx-rabbitmq"
    }
    factory = "chanx.rabbitmq:RabbitMQChannelLayer.from_url"
    assert found == dict.fromkeys(["amqp", "amqps"], factory)
