"""``@ws_handler``, ``@event_handler`` and ``@channel``: metadata only, read at class creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast, overload

__all__ = [
    "ChannelInfo",
    "HandlerDecorator",
    "HandlerMark",
    "channel",
    "event_handler",
    "ws_handler",
]

HandlerKind = Literal["ws", "event"]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
C = TypeVar("C", bound=type)

MARK_ATTRIBUTE = "__chanx_handler__"
CHANNEL_ATTRIBUTE = "__chanx_channel__"


@dataclass(frozen=True, slots=True)
class HandlerMark:
    """What a decorator recorded on a handler function; types are resolved later."""

    kind: HandlerKind
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    output_type: Any = None


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """Class-level documentation metadata set by `channel`."""

    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def _mark(func: F, mark: HandlerMark) -> F:
    if not callable(func):
        raise TypeError(f"expected an async function to decorate, but got {func!r}")
    setattr(func, MARK_ATTRIBUTE, mark)
    return func


class HandlerDecorator(Protocol):
    """The type of `ws_handler` and `event_handler`: used bare, or called with options."""

    @overload
    def __call__(self, func: F, /) -> F: ...
    @overload
    def __call__(
        self,
        *,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        output_type: Any = None,
    ) -> Callable[[F], F]: ...


def _handler_decorator(kind: HandlerKind, name: str, doc: str) -> HandlerDecorator:
    # One implementation for both decorators: they differ only in the kind they record.
    def decorate(
        func: F | None = None,
        /,
        *,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        output_type: Any = None,
    ) -> F | Callable[[F], F]:
        mark = HandlerMark(kind, summary, description, tuple(tags), output_type)
        if func is not None:
            return _mark(func, mark)
        return lambda f: _mark(f, mark)

    decorate.__name__ = decorate.__qualname__ = name
    decorate.__doc__ = doc
    return cast("HandlerDecorator", decorate)


ws_handler = _handler_decorator(
    "ws",
    "ws_handler",
    """Route client frames to this method by the ``action`` of its first parameter's type.

The parameter's annotation (a `BaseMessage` subclass, or a union of them) says which
frames arrive here; the return value, if not None, is sent back as the reply. Use bare
(``@ws_handler``) or with documentation options.

Args:
    func: The handler, when used bare.
    summary: One line for the AsyncAPI operation.
    description: Longer text; defaults to the method's docstring.
    tags: AsyncAPI operation tags.
    output_type: Documented reply type, overriding the return annotation.
""",
)
event_handler = _handler_decorator(
    "event",
    "event_handler",
    """Route channel-layer events to this method by the ``type`` of its parameter's type.

The parameter's annotation is a `BaseEvent` subclass (or a union of them); a returned
message is sent to this connection's client.

Args:
    func: The handler, when used bare.
    summary: One line for the AsyncAPI operation.
    description: Longer text; defaults to the method's docstring.
    tags: AsyncAPI operation tags.
    output_type: Documented message type sent to the client.
""",
)


def channel(
    *,
    name: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
) -> Callable[[C], C]:
    """Attach documentation metadata to a consumer class (the docstring is the default).

    Args:
        name: Channel name in the AsyncAPI document (default: derived from the class).
        description: Channel description (default: the class docstring).
        tags: AsyncAPI channel tags.
    """
    info = ChannelInfo(name=name, description=description, tags=tuple(tags))

    def apply(cls: C) -> C:
        setattr(cls, CHANNEL_ATTRIBUTE, info)
        return cls

    return apply
