"""Route tables, built once per consumer class.

Handlers are found through the MRO, their message types resolved from annotations, and one
compiled decoder made per direction.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter

from chanx.core._decorators import MARK_ATTRIBUTE, HandlerKind, HandlerMark
from chanx.core._messages import BaseEvent, BaseMessage, literal_values

__all__ = [
    "ROUTES_ATTRIBUTE",
    "ConsumerRoutes",
    "Handler",
    "RouteTable",
    "build_consumer_routes",
    "build_routes",
    "defining_namespace",
    "flatten_union",
    "routes_of",
]


@dataclass(frozen=True, slots=True)
class Handler:
    """One decorated method with its resolved message types.

    Attributes:
        name: The method's name.
        kind: ``"ws"`` for a `ws_handler`, ``"event"`` for an `event_handler`.
        func: The undecorated function (call it as ``func(consumer, message)``).
        input_types: The message (or event) classes it accepts.
        output_type: Its declared return type (None when it returns nothing).
        keys: The ``action`` (or event ``type``) values routed to it.
        owner: The class that defines the method.
    """

    name: str
    kind: HandlerKind
    func: Callable[..., Any]
    input_types: tuple[type[BaseMessage] | type[BaseEvent], ...]
    output_type: Any
    keys: tuple[str, ...]
    mark: HandlerMark
    owner: type

    @property
    def qualname(self) -> str:
        """``Class.method`` of the class that defines the handler."""
        return f"{self.owner.__qualname__}.{self.name}"

    @property
    def description(self) -> str | None:
        """The decorator's description, else the method's docstring."""
        return self.mark.description or inspect.getdoc(self.func)


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Handlers of one kind, indexed by discriminator value, with their compiled decoder.

    ``decoder`` is the pydantic ``TypeAdapter`` of the discriminated union of the inbound
    models; ``validate_json`` is what the consumer runs on each client frame.
    """

    kind: HandlerKind
    handlers: tuple[Handler, ...]
    by_key: Mapping[str, Handler]
    decoder: TypeAdapter[Any]

    @property
    def validate_json(self) -> Callable[[str | bytes], Any]:
        """The compiled validator's own ``validate_json`` (skips the adapter's wrapper)."""
        return self.decoder.validator.validate_json

    @property
    def validate_python(self) -> Callable[[Any], Any]:
        """The compiled validator's own ``validate_python``."""
        return self.decoder.validator.validate_python

    @property
    def models(self) -> tuple[type[Any], ...]:
        """Every inbound model, in handler order, without repeats."""
        return tuple(dict.fromkeys(t for h in self.handlers for t in h.input_types))


def flatten_union(annotation: Any) -> tuple[Any, ...]:
    """Split ``A | B`` / ``Union[A, B]`` into its members; anything else is one member."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return tuple(m for arg in typing.get_args(annotation) for m in flatten_union(arg))
    return (annotation,)


def _resolve_hints(
    func: Callable[..., Any], owner: type, localns: Mapping[str, Any]
) -> dict[str, Any]:
    try:
        return typing.get_type_hints(
            func, globalns=getattr(func, "__globals__", None), localns=dict(localns)
        )
    except NameError as exc:
        raise TypeError(
            f"cannot resolve the annotations of {owner.__qualname__}.{func.__name__}: {exc}. "
            "Define the message classes at module level (or before the consumer class)."
        ) from None


def _make_handler(
    name: str, func: Callable[..., Any], mark: HandlerMark, owner: type, localns: Mapping[str, Any]
) -> Handler:
    qualname = f"{owner.__qualname__}.{name}"
    if not inspect.iscoroutinefunction(func):
        raise TypeError(f"{qualname} must be an async function (async def), but got {func!r}")
    params = [p for p in inspect.signature(func).parameters.values()][1:]
    if not params:
        raise TypeError(f"{qualname} must take the message as its first parameter after self")
    hints = _resolve_hints(func, owner, localns)
    annotation = hints.get(params[0].name)
    base: type[BaseMessage] | type[BaseEvent] = BaseMessage if mark.kind == "ws" else BaseEvent
    field = "action" if mark.kind == "ws" else "type"
    members = flatten_union(annotation) if annotation is not None else ()
    keys: list[str] = []
    for member in members:
        values = (
            literal_values(member, field)
            if isinstance(member, type) and issubclass(member, base)
            else None
        )
        if values is None:
            raise TypeError(
                f"{qualname}: the first parameter must be annotated with a {base.__name__} "
                f"subclass (or a union of them) whose {field!r} is a Literal, "
                f"but got {annotation!r}"
            )
        keys.extend(values)
    output = mark.output_type if mark.output_type is not None else hints.get("return")
    if output is type(None):
        output = None
    return Handler(name, mark.kind, func, members, output, tuple(keys), mark, owner)


def _placeholder(kind: HandlerKind, index: int) -> type[Any]:
    # Decoding is always a discriminated union, so a frame must carry its action even when
    # a lone model gives ``action`` a default: placeholders fill the union to two members.
    tag = f"\x00chanx-unused-{index}"
    if kind == "ws":
        return type(
            f"_Unused{index}",
            (BaseMessage,),
            {"__annotations__": {"action": Literal[tag]}, "action": tag},
        )
    return type(
        f"_UnusedEvent{index}",
        (BaseEvent,),
        {"__annotations__": {"type": Literal[tag]}, "type": tag},
    )


def _decoder(kind: HandlerKind, models: tuple[type[Any], ...]) -> TypeAdapter[Any]:
    members = models + tuple(_placeholder(kind, i) for i in range(2 - len(models)))
    field = "action" if kind == "ws" else "type"
    union: Any = Annotated[Union[members], Field(discriminator=field)]  # noqa: UP007
    return TypeAdapter(union)


def defining_namespace() -> dict[str, Any]:
    """Locals of the frame defining a class, for annotations that name local classes.

    Called from a class's ``__init_subclass__``.
    """
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name == "__init_subclass__":
        frame = frame.f_back  # type: ignore[assignment]
    return dict(frame.f_locals) if frame is not None else {}


def build_routes(cls: type, kind: HandlerKind, localns: Mapping[str, Any]) -> RouteTable:
    """Collect ``cls``'s handlers of ``kind`` (mixins included) and compile their decoder.

    A method counts if the attribute visible on ``cls`` carries the decorator's mark, so a
    subclass overriding a handler by name replaces it. Two handlers for one key raise
    `TypeError` naming both.
    """
    names = dict.fromkeys(
        name
        for klass in reversed(cls.__mro__)
        for name, value in vars(klass).items()
        if getattr(value, MARK_ATTRIBUTE, None) is not None
    )
    handlers: list[Handler] = []
    by_key: dict[str, Handler] = {}
    for name in names:
        func = inspect.getattr_static(cls, name)
        mark = getattr(func, MARK_ATTRIBUTE, None)
        if not isinstance(mark, HandlerMark) or mark.kind != kind:
            continue
        owner = next(k for k in cls.__mro__ if vars(k).get(name) is func)
        handler = _make_handler(name, func, mark, owner, localns)
        for key in handler.keys:
            if key in by_key:
                other = by_key[key]
                what = "action" if kind == "ws" else "event type"
                raise TypeError(
                    f"{other.qualname} and {handler.qualname} both handle {what} {key!r}; "
                    "each must have exactly one handler"
                )
            by_key[key] = handler
        handlers.append(handler)
    models = tuple(dict.fromkeys(t for h in handlers for t in h.input_types))
    return RouteTable(kind, tuple(handlers), by_key, _decoder(kind, models))


@dataclass(frozen=True, slots=True)
class ConsumerRoutes:
    """A consumer class's handlers, read-only: ``ws`` by action, ``event`` by event type."""

    ws: RouteTable
    event: RouteTable

    @property
    def handlers(self) -> tuple[Handler, ...]:
        """Every handler: the ``ws`` ones first, then the ``event`` ones."""
        return self.ws.handlers + self.event.handlers


#: The class attribute the consumer keeps its `ConsumerRoutes` under.
ROUTES_ATTRIBUTE = "_chanx_routes"


def routes_of(consumer: object) -> ConsumerRoutes:
    """The route table of a consumer class (or of the app its ``as_asgi()`` returned).

    Documentation tools, the CLI, test strategies and adapters read handlers here::

        for handler in routes_of(ChatConsumer).ws.handlers:
            print(handler.keys, handler.input_types, handler.output_type)

    Raises:
        TypeError: ``consumer`` is not a Chanx consumer class or its app.
    """
    owner = getattr(consumer, "consumer_class", consumer)
    routes = getattr(owner, ROUTES_ATTRIBUTE, None) if isinstance(owner, type) else None
    if not isinstance(routes, ConsumerRoutes):
        raise TypeError(
            f"expected a Chanx consumer class or its as_asgi() app, but got {consumer!r}"
        )
    return routes


def build_consumer_routes(cls: type, localns: Mapping[str, Any]) -> ConsumerRoutes:
    """Both route tables of ``cls``."""
    return ConsumerRoutes(build_routes(cls, "ws", localns), build_routes(cls, "event", localns))
