"""What each route contributes to a document, collected before any schema is generated."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chanx.core._adapters import WebsocketRoute
from chanx.core._decorators import CHANNEL_ATTRIBUTE, ChannelInfo
from chanx.core._messages import BaseMessage, CompleteMessage, ErrorMessage, literal_values
from chanx.core._routing import Handler, flatten_union, routes_of
from chanx.core.asyncapi._schemas import Direction

__all__ = [
    "UNSAFE_KEY",
    "Plan",
    "directions",
    "make_plan",
    "message_name",
    "output_messages",
    "own_doc",
    "summary_and_description",
    "unique",
]

UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_.\-]")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def own_doc(obj: type) -> str | None:
    # Only the class's own docstring: an undocumented message must not show BaseMessage's.
    doc = vars(obj).get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def summary_and_description(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    first, _, rest = text.partition("\n\n")
    out = {"summary": " ".join(first.split())}
    if rest.strip():
        out["description"] = text
    return out


def unique(name: str, taken: Mapping[str, Any]) -> str:
    name = UNSAFE_KEY.sub("_", name) or "item"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def output_messages(annotation: Any) -> list[type[BaseMessage]]:
    """Message classes a handler's return annotation sends: unions, lists and None unpacked."""
    found: list[type[BaseMessage]] = []
    for member in flatten_union(annotation):
        if member is None or member is type(None):
            continue
        origin = typing.get_origin(member)
        if origin in (list, tuple, Sequence, typing.Sequence):
            args = [a for a in typing.get_args(member) if a is not Ellipsis]
            for arg in args:
                found.extend(output_messages(arg))
        elif isinstance(member, type) and issubclass(member, BaseMessage):
            found.append(member)
        else:
            raise TypeError(
                f"expected a handler's return annotation to name BaseMessage subclasses "
                f"(a union or a list of them, or None), but got {member!r}"
            )
    return list(dict.fromkeys(found))


def message_name(model: type[BaseModel]) -> str:
    values = literal_values(model, "action") or literal_values(model, "type")
    return "|".join(values) if values else model.__name__


@dataclass
class Plan:
    """Everything one route contributes, before schemas exist."""

    channel_id: str
    route: WebsocketRoute
    address: str
    params: dict[str, str]
    receives: list[tuple[Handler, list[type[BaseMessage]]]] = field(default_factory=list)
    events: list[tuple[Handler, list[type[BaseMessage]]]] = field(default_factory=list)
    emits: list[type[BaseMessage]] = field(default_factory=list)

    @property
    def info(self) -> ChannelInfo:
        found = getattr(self.route.consumer, CHANNEL_ATTRIBUTE, None)
        return found if isinstance(found, ChannelInfo) else ChannelInfo()

    @property
    def extras(self) -> list[type[BaseMessage]]:
        consumer = self.route.consumer
        return [ErrorMessage, *([CompleteMessage] if consumer.send_completion else [])]

    def messages(self) -> list[type[BaseMessage]]:
        found: list[type[BaseMessage]] = []
        for handler, outputs in self.receives:
            found += [*handler.input_types, *outputs]  # type: ignore[list-item]
        for _handler, outputs in self.events:
            found += outputs
        return list(dict.fromkeys([*found, *self.emits, *self.extras]))


def _channel_id(route: WebsocketRoute, taken: Mapping[str, Any]) -> str:
    info = getattr(route.consumer, CHANNEL_ATTRIBUTE, None)
    name = info.name if isinstance(info, ChannelInfo) and info.name else route.name
    if not name:
        base = route.consumer.__name__.removesuffix("Consumer") or route.consumer.__name__
        name = _CAMEL_BOUNDARY.sub("_", base).lower()
    return unique(name, taken)


def make_plan(route: WebsocketRoute, taken: Mapping[str, Any]) -> Plan:
    consumer = route.consumer
    plan = Plan(_channel_id(route, taken), route, route.path, dict(route.params))
    routes = routes_of(consumer)
    for handler in routes.ws.handlers:
        plan.receives.append((handler, output_messages(handler.output_type)))
    for handler in routes.event.handlers:
        outputs = output_messages(handler.output_type)
        if outputs:
            plan.events.append((handler, outputs))
    for message in consumer.emits:
        if not (isinstance(message, type) and issubclass(message, BaseMessage)):
            raise TypeError(
                f"{consumer.__qualname__}.emits must list BaseMessage subclasses, "
                f"but got {message!r}"
            )
        plan.emits.append(message)
    return plan


def directions(plans: Sequence[Plan]) -> dict[type[BaseModel], Direction]:
    # One schema per class: what the server accepts wins when a class travels both ways.
    directions: dict[type[BaseModel], Direction] = {}
    for plan in plans:
        for handler, _outputs in plan.receives:
            for model in handler.input_types:
                directions[model] = "validation"
    for plan in plans:
        for model in plan.messages():
            directions.setdefault(model, "serialization")
    return directions
