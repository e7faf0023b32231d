"""Closing what a layer holds for an event loop when that loop closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any, Protocol, TypeVar

__all__ = ["AsyncClosable", "close_with_loop"]


class AsyncClosable(Protocol):
    """Anything with an ``aclose()`` coroutine: a connection, a layer's per-loop state."""

    def aclose(self) -> Coroutine[Any, Any, None]:
        """Close it."""


_Resource = TypeVar("_Resource", bound=AsyncClosable)


def close_with_loop(
    loop: asyncio.AbstractEventLoop,
    resources: MutableMapping[asyncio.AbstractEventLoop, _Resource],
) -> None:
    """Make ``loop.close()`` first take ``resources[loop]`` out and close it on ``loop``.

    For layers that keep a connection per event loop (a ``WeakKeyDictionary`` keyed by
    the loop): the loops ``async_to_sync`` makes for views and Celery tasks are closed
    without anyone closing what a layer opened on them. A failure while closing is
    swallowed, since the loop is going away either way.
    """
    original: Callable[[], None] = loop.close

    def close() -> None:
        resource = resources.pop(loop, None)
        if resource is not None and not loop.is_running() and not loop.is_closed():
            with contextlib.suppress(Exception):
                loop.run_until_complete(resource.aclose())
        with contextlib.suppress(AttributeError):
            del loop.close
        original()

    with contextlib.suppress(AttributeError):
        loop.close = close  # type: ignore[method-assign]
