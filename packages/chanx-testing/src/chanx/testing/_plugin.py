"""The ``chanx`` pytest plugin: fixtures for a fresh layer, communicators and layer cleanup.

pytest imports this module at startup in every project that installs chanx-testing, so it
imports nothing beyond pytest itself: web frameworks, Django, hypothesis, chanx-core and
pydantic are never imported by it (the ``chanx.testing`` package loads its names lazily),
and the layer, spy and communicator modules load when a test asks for a fixture. Switch it
off with ``-p no:chanx``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chanx.core.layers import ChannelLayer, InMemoryChannelLayer
    from chanx.core.types import ASGIApp
    from chanx.testing._communicator import WebsocketCommunicator
    from chanx.testing._spies import CaptureLayer

    CommunicatorFactory = Callable[..., WebsocketCommunicator]

__all__ = [
    "chanx_capture",
    "chanx_communicator",
    "chanx_layer",
    "chanx_layer_alias",
    "chanx_layers_cleanup",
]


def _run_without_loop(coro: Coroutine[Any, Any, None]) -> bool:
    """Run a coroutine that never suspends (an in-memory flush); False if it would have."""
    try:
        coro.send(None)
    except StopIteration:
        return True
    coro.close()
    return False


def _override_framework_layers(alias: str, layer: ChannelLayer) -> list[Callable[[], None]]:
    """Have every framework that configures ``alias`` hand out ``layer``; returns the undos.

    Under Django, consumers resolve the alias through ``CHANNEL_LAYERS`` before Chanx's
    registry, so a test layer must replace it there too; the adapter knows how.
    """
    from chanx.core.adapters import load_adapters

    undos = (adapter.override_channel_layer(alias, layer) for adapter in load_adapters())
    return [undo for undo in undos if undo is not None]


def install_layer(alias: str, layer: ChannelLayer) -> Callable[[], None]:
    """Make ``layer`` the one consumers get for ``alias``; returns the undo."""
    from chanx.core.layers import (
        lookup_channel_layer,
        register_channel_layer,
        unregister_channel_layer,
    )

    previous = lookup_channel_layer(alias)
    register_channel_layer(alias, layer)
    undo_frameworks = _override_framework_layers(alias, layer)

    def undo() -> None:
        for undo_framework in reversed(undo_frameworks):
            undo_framework()
        if previous is None:
            unregister_channel_layer(alias)
        else:
            register_channel_layer(alias, previous)

    return undo


@pytest.fixture
def chanx_layer_alias() -> str:
    """The alias `chanx_layer` and `chanx_capture` install their layer under.

    Override this fixture (in a conftest.py) when your consumers use another alias.
    """
    return "default"


@pytest.fixture
def chanx_layers_cleanup() -> Iterator[None]:
    """Restore Chanx's layer registry after the test, whatever the test registered.

    Layers registered during the test are forgotten, not closed: close those that hold
    connections (Redis) in the test itself.
    """
    from chanx.core.layers import (
        register_channel_layer,
        registered_channel_layers,
        unregister_channel_layer,
    )

    saved = registered_channel_layers()
    yield
    current = registered_channel_layers()
    for alias in current.keys() - saved.keys():
        unregister_channel_layer(alias)
    for alias, layer in saved.items():
        if current.get(alias) is not layer:
            register_channel_layer(alias, layer)


@pytest.fixture
def chanx_layer(
    chanx_layers_cleanup: None, chanx_layer_alias: str
) -> Iterator[InMemoryChannelLayer]:
    """A fresh `InMemoryChannelLayer` that consumers get for ``chanx_layer_alias`` ("default").

    It is registered for the test only (under Django, it also stands in for the
    ``CHANNEL_LAYERS`` entry of that alias) and flushed and unregistered afterwards.
    """
    from chanx.core.layers import InMemoryChannelLayer

    layer = InMemoryChannelLayer()
    undo = install_layer(chanx_layer_alias, layer)
    try:
        yield layer
    finally:
        undo()
        _run_without_loop(layer.flush())


@pytest.fixture
def chanx_capture(
    chanx_layer: InMemoryChannelLayer, chanx_layer_alias: str
) -> Iterator[CaptureLayer]:
    """A `CaptureLayer` over `chanx_layer`, installed for ``chanx_layer_alias``.

    It records every ``send`` and ``group_send`` and delivers them; set
    ``chanx_capture.deliver = False`` to record without delivering.
    """
    from chanx.testing._spies import CaptureLayer

    capture = CaptureLayer(chanx_layer)
    undo = install_layer(chanx_layer_alias, capture)
    try:
        yield capture
    finally:
        undo()


_COMMUNICATORS = pytest.StashKey["list[WebsocketCommunicator]"]()
_DISCONNECT_ERRORS = pytest.StashKey["list[Exception]"]()


def _disconnect_all(communicators: list[WebsocketCommunicator]) -> list[Exception]:
    errors: list[Exception] = []
    for communicator in communicators:
        task = communicator._task
        if task is None:
            continue
        loop = task.get_loop()
        try:
            if task.done():
                # Never suspends: it only re-raises an error the app ended with.
                _run_without_loop(communicator.disconnect())
            elif not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(communicator.disconnect())
        except Exception as error:
            errors.append(error)
    return errors


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Disconnect the test's communicators first, while its event loop still exists.

    Fixtures are torn down later, and the one running the event loop (pytest-asyncio's,
    anyio's) may go before `chanx_communicator`'s: closing the loop would cancel the apps
    instead of letting them see ``websocket.disconnect``.
    """
    communicators = item.stash.get(_COMMUNICATORS, None)
    if communicators:
        item.stash[_DISCONNECT_ERRORS] = _disconnect_all(communicators)
    return (yield)


@pytest.fixture
def chanx_communicator(request: pytest.FixtureRequest) -> Iterator[CommunicatorFactory]:
    """A factory of `WebsocketCommunicator`: ``chanx_communicator(app, path, **options)``.

    Accepts what `WebsocketCommunicator` accepts (any ASGI app: FastAPI, Starlette, Django
    Channels, a bare consumer). Every communicator it made is disconnected after the test,
    and an error its app raised fails the test.
    """
    from chanx.testing._communicator import WebsocketCommunicator

    made: list[WebsocketCommunicator] = []
    request.node.stash[_COMMUNICATORS] = made

    def factory(app: ASGIApp, path: str = "/", **options: Any) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(app, path, **options)
        made.append(communicator)
        return communicator

    yield factory
    errors = request.node.stash.get(_DISCONNECT_ERRORS, [])
    errors += _disconnect_all(made)  # communicators of a loop that is gone: errors only
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ExceptionGroup("several apps failed while disconnecting", errors)
