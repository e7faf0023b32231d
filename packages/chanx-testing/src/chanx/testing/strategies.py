"""Hypothesis strategies for Chanx messages, consumers' inbound frames and malformed input.

Property tests for a consumer in a few lines::

    from hypothesis import given
    from chanx.testing.strategies import frames, malformed_frames

    @given(frame=malformed_frames(ChatConsumer))
    async def test_bad_input_gets_one_error(frame): ...

What is honoured when building messages: ``Literal`` fields (the ``action``), unions and
``Optional`` (optional fields are sometimes left to their default), nested models,
``list``/``tuple``/``set``/``dict``, enums, ``Annotated`` bounds (``gt``, ``ge``, ``lt``,
``le``), lengths (``min_length``, ``max_length``) and string ``pattern``. Anything else
falls back to ``st.from_type``. Every generated message is validated by its model, so
custom validators and unread constraints can only make hypothesis reject an example, never
yield an invalid one (a model whose validators reject most examples will trip
hypothesis's ``filter_too_much`` health check: register a strategy for that field type
with ``st.register_type_strategy``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import reject
from hypothesis import strategies as st
from pydantic import ValidationError

from chanx.core import AsyncJsonWebsocketConsumer, BaseEvent, BaseMessage, routes_of
from chanx.testing import _malformed
from chanx.testing._model_strategies import from_model, json_values

__all__ = [
    "frames",
    "from_message",
    "inbound_events",
    "inbound_messages",
    "json_values",
    "malformed_frames",
]

MessageT = TypeVar("MessageT", bound=BaseMessage | BaseEvent)


def from_message(model: type[MessageT]) -> st.SearchStrategy[MessageT]:
    """Valid instances of a message (or event, or any pydantic) model.

    Args:
        model: The model class, such as ``ChatMessage``.
    """
    return from_model(model)


def _consumer_models(
    consumer: type[AsyncJsonWebsocketConsumer], kind: str
) -> tuple[type[Any], ...]:
    if not (isinstance(consumer, type) and issubclass(consumer, AsyncJsonWebsocketConsumer)):
        raise TypeError(f"expected a consumer class, but got {consumer!r}")
    routes = routes_of(consumer)
    return (routes.ws if kind == "ws" else routes.event).models


def _any_inbound(consumer: type[AsyncJsonWebsocketConsumer], kind: str) -> st.SearchStrategy[Any]:
    models = _consumer_models(consumer, kind)
    if not models:
        decorator, what = (
            ("@ws_handler", "message") if kind == "ws" else ("@event_handler", "event")
        )
        raise ValueError(f"{consumer.__qualname__} has no {decorator}, so no inbound {what}")
    return st.one_of([from_model(model) for model in models])


def inbound_messages(consumer: type[AsyncJsonWebsocketConsumer]) -> st.SearchStrategy[BaseMessage]:
    """Any message a client may send ``consumer``: one of its ``@ws_handler`` input types.

    Raises:
        ValueError: ``consumer`` has no ``@ws_handler``.
    """
    strategy: st.SearchStrategy[BaseMessage] = _any_inbound(consumer, "ws")
    return strategy


def inbound_events(consumer: type[AsyncJsonWebsocketConsumer]) -> st.SearchStrategy[BaseEvent]:
    """Any channel-layer event ``consumer`` handles: one of its ``@event_handler`` types.

    Raises:
        ValueError: ``consumer`` has no ``@event_handler``.
    """
    strategy: st.SearchStrategy[BaseEvent] = _any_inbound(consumer, "event")
    return strategy


def frames(consumer: type[AsyncJsonWebsocketConsumer]) -> st.SearchStrategy[str]:
    """JSON text frames of valid inbound messages, as a client would send them (by alias).

    Only frames ``consumer`` itself decodes are produced: a message that does not survive
    the JSON round trip (a float that JSON cannot carry, say) is rejected.
    """
    decode = routes_of(consumer).ws.validate_json

    def encode(message: BaseMessage) -> str:
        text = message.model_dump_json(by_alias=True)
        try:
            decode(text)
        except ValidationError:
            reject()
        return text

    return inbound_messages(consumer).map(encode)


def malformed_frames(
    consumer: type[AsyncJsonWebsocketConsumer] | None = None,
) -> st.SearchStrategy[str | bytes]:
    """Frames a consumer must refuse, each with one error frame (binary frames are bytes).

    Without ``consumer``: invalid JSON, binary frames (random bytes, invalid UTF-8, JSON
    sent as bytes), JSON that is not an object, nesting deeper than the parser allows, a
    missing ``action`` (with huge numbers among the fields) and an ``action`` that is not a
    string. With ``consumer``, also unknown actions, its own messages with one value
    replaced by a wrong type or a huge number, and extra fields on models that forbid
    them; every frame is then checked against the consumer's decoder, so all of them are
    refused by it.
    """
    strategies: list[st.SearchStrategy[Any]] = [
        _malformed.invalid_json(),
        _malformed.binary(),
        _malformed.non_object_json(),
        _malformed.deep_nesting(),
        _malformed.missing_action(),
        _malformed.bad_action_type(),
    ]
    if consumer is None:
        return st.one_of(strategies)
    models = _consumer_models(consumer, "ws")
    routes = routes_of(consumer).ws
    known = frozenset(routes.by_key)
    strategies += [_malformed.unknown_action(known), _malformed.wrong_fields(models)]
    decode = routes.validate_json

    def refused(frame: str | bytes) -> bool:
        if isinstance(frame, bytes):
            return True
        try:
            decode(frame)
        except ValidationError:
            return True
        return False

    return st.one_of(strategies).filter(refused)
