"""Message models: what clients send and receive, and what travels through channel layers.

Client frames are ``{"action": ..., "payload": ...}`` objects discriminated by ``action``;
channel-layer events are ``{"type": ..., ...}`` dicts discriminated by ``type`` (the Django
Channels convention). Each concrete subclass declares its discriminator as a ``Literal``.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

__all__ = [
    "BaseEvent",
    "BaseMessage",
    "CompleteMessage",
    "ErrorMessage",
    "ErrorPayload",
    "PingMessage",
    "PongMessage",
    "encode_message",
    "literal_values",
]


def _is_none(value: object) -> bool:
    return value is None


def literal_values(model: type[BaseModel], field: str) -> tuple[str, ...] | None:
    """Return the string values of ``model``'s ``Literal`` field, or None if it is not one."""
    info = model.model_fields.get(field)
    if info is None or typing.get_origin(info.annotation) is not Literal:
        return None
    values = typing.get_args(info.annotation)
    if not values or not all(isinstance(value, str) for value in values):
        return None
    return values


class _Discriminated(BaseModel):
    """Shared rule: concrete subclasses declare the discriminator field as a ``Literal``.

    A subclass meant as a base for others (no discriminator yet) sets ``__abstract__ = True``.
    """

    _discriminator: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("__abstract__", False):
            return
        name = cls._discriminator
        if literal_values(cls, name) is None:
            annotation = cls.model_fields[name].annotation
            shown = getattr(annotation, "__name__", annotation)
            raise TypeError(
                f"{cls.__qualname__}.{name} must be declared as a Literal of strings, "
                f'e.g. {name}: Literal["{cls.__name__.lower()}"] = "{cls.__name__.lower()}", '
                f"but got {shown!r}. Set __abstract__ = True on a class meant only as a base."
            )


class BaseMessage(_Discriminated):
    """A client frame: ``{"action": ..., "payload": ...}``, routed by ``action``.

    ``ref`` is an optional client-chosen correlation id: it is echoed on the reply and on
    any error frame the request causes, and left out of the JSON when unset.

    Floats must be finite (``inf`` and ``NaN`` are refused, since JSON cannot carry them);
    a model that needs them sets ``model_config = ConfigDict(allow_inf_nan=True)``.
    """

    model_config = ConfigDict(allow_inf_nan=False)
    __abstract__ = True
    _discriminator: ClassVar[str] = "action"

    action: str
    # Strict: a JSON true is not the integer 1, nor 2.0 the integer 2 (as extract_ref reads it)
    ref: StrictStr | StrictInt | None = Field(default=None, exclude_if=_is_none)


class BaseEvent(_Discriminated):
    """A channel-layer event: the layer message itself, ``{"type": ..., **fields}``.

    Any sender, such as ``group_send(group, {"type": "user_joined", "username": "alice"})``
    from a view or a Celery task, reaches the ``@event_handler`` whose event model's
    ``type`` matches.
    """

    __abstract__ = True
    _discriminator: ClassVar[str] = "type"

    type: str


class PingMessage(BaseMessage):
    """Client heartbeat; a consumer with the built-in handler answers `PongMessage`."""

    action: Literal["ping"] = "ping"
    payload: None = None


class PongMessage(BaseMessage):
    """Reply to `PingMessage`."""

    action: Literal["pong"] = "pong"
    payload: None = None


class ErrorPayload(BaseModel):
    """What went wrong: a stable ``code``, a human ``detail`` and, for validation, ``errors``.

    ``errors`` lists at most ten field errors, and ``error_count`` says how many were
    found, so an error frame stays small whatever the request held.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    detail: str
    errors: list[dict[str, Any]] | None = Field(default=None, exclude_if=_is_none)
    error_count: int | None = Field(default=None, exclude_if=_is_none)


class ErrorMessage(BaseMessage):
    """The one error frame schema, sent for any input the consumer cannot handle."""

    action: Literal["error"] = "error"
    payload: ErrorPayload


class CompleteMessage(BaseMessage):
    """Sent after each handled frame when the consumer enables completion signals."""

    action: Literal["complete"] = "complete"
    payload: None = None


def encode_message(message: BaseMessage) -> str:
    """JSON text of ``message`` with its aliases (the serializer itself, minus the wrapper)."""
    return message.__pydantic_serializer__.to_json(message, by_alias=True).decode()
