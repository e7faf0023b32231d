"""Hypothesis strategies: valid messages validate, replies match their declared type, and
every malformed frame gets exactly one error frame while the socket keeps serving."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, routes_of
from chanx.testing import CaptureLayer, WebsocketCommunicator
from chanx.testing.strategies import (
    frames,
    from_message,
    inbound_events,
    inbound_messages,
    malformed_frames,
)
from tests.core.consumers import ChatConsumer
from tests.testing.consumers import (
    ForumConsumer,
    ModeratedEvent,
    Mood,
    PostMessage,
    PostNotice,
    VoteMessage,
)

FIXTURE_SHARED = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
T = TypeVar("T")
ERROR_KEYS = {"code", "detail", "errors", "error_count"}
# These tests ask whether the strategy can produce a value at all, not for its simplest form:
# skipping the shrink phase turns 3-20 s of shrinking per test into milliseconds.
FIRST_FOUND = settings(phases=[Phase.generate], database=None)


def first(strategy: st.SearchStrategy[T], condition: Callable[[T], bool]) -> T:
    """The first generated value that meets ``condition`` (hypothesis.find without shrinking)."""
    return find(strategy, condition, settings=FIRST_FOUND)


@settings(max_examples=100)
@given(message=from_message(PostMessage))
def test_generated_messages_honour_the_declared_constraints(message: PostMessage) -> None:
    payload = message.payload
    assert re.fullmatch(r"[A-Z][a-z]{0,9}", payload.title)
    assert 1 <= len(payload.author.name) <= 12
    assert 0 <= payload.author.karma < 1000
    assert len(payload.tags) <= 3
    assert payload.score is None or -1.0 < payload.score <= 1.0
    assert PostMessage.model_validate_json(message.model_dump_json(by_alias=True)) == message


def test_optional_fields_are_sometimes_set_and_sometimes_default() -> None:
    strategy = from_message(PostMessage)
    assert first(strategy, lambda m: m.payload.score is not None).payload.score is not None
    assert first(strategy, lambda m: m.payload.point is not None).payload.point is not None
    assert first(strategy, lambda m: m.payload.mood is Mood.GRUMPY)
    assert first(strategy, lambda m: m.ref is not None).ref is not None
    assert first(strategy, lambda m: "score" not in m.model_fields_set)


def test_literal_actions_with_several_values_are_all_generated() -> None:
    strategy = from_message(VoteMessage)
    assert first(strategy, lambda m: m.action == "unvote").action == "unvote"
    assert first(strategy, lambda m: m.action == "vote").action == "vote"


@given(event=inbound_events(ForumConsumer))
def test_inbound_events_are_the_event_handlers_types(event: ModeratedEvent) -> None:
    assert isinstance(event, ModeratedEvent)


@given(frame=frames(ForumConsumer))
def test_frames_are_json_the_consumer_decodes(frame: str) -> None:
    message = routes_of(ForumConsumer).ws.validate_json(frame)
    assert message.action in routes_of(ForumConsumer).ws.by_key


@given(frame=malformed_frames())
def test_malformed_frames_are_refused_by_any_consumer(frame: str | bytes) -> None:
    for consumer in (ForumConsumer, ChatConsumer):
        if isinstance(frame, str):
            with pytest.raises(ValidationError):
                routes_of(consumer).ws.validate_json(frame)


def test_bad_arguments_are_named() -> None:
    class Silent(AsyncJsonWebsocketConsumer):
        pass

    with pytest.raises(ValueError, match="Silent has no @ws_handler"):
        inbound_messages(Silent)
    with pytest.raises(ValueError, match="Silent has no @event_handler"):
        inbound_events(Silent)
    with pytest.raises(TypeError, match="expected a consumer class, but got 'chat'"):
        inbound_messages("chat")  # type: ignore[arg-type]


@FIXTURE_SHARED
@given(message=inbound_messages(ForumConsumer))
async def test_any_valid_message_gets_a_reply_of_the_declared_type(
    chanx_capture: CaptureLayer, message: BaseMessage
) -> None:
    chanx_capture.deliver = False  # broadcasts would race the reply back to this socket
    chanx_capture.clear()
    handler = routes_of(ForumConsumer).ws.by_key[message.action]
    async with WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as ws:
        await ws.send_message(message)
        replies = await ws.receive_all_messages()
    assert len(replies) == 1
    reply = TypeAdapter(handler.output_type).validate_python(replies[0])
    if message.ref is not None:
        assert reply.ref == message.ref
    if isinstance(message, PostMessage):
        assert chanx_capture.messages(PostNotice, "forum") == [
            PostNotice(payload=message.payload.title)
        ]


@settings(FIXTURE_SHARED, max_examples=200)
@given(frame=malformed_frames(ForumConsumer), again=st.booleans())
async def test_any_malformed_frame_gets_one_error_frame_and_the_socket_keeps_serving(
    chanx_layer: object, frame: str | bytes, again: bool
) -> None:
    async with WebsocketCommunicator(ForumConsumer.as_asgi(), "/ws") as ws:
        for _ in range(2 if again else 1):
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_text(frame)
            [error] = await ws.receive_all_messages()
            assert error["action"] == "error"
            assert set(error["payload"]) <= ERROR_KEYS
            assert "Traceback" not in error["payload"]["detail"]
        await ws.send_json({"action": "ping"})
        assert await ws.receive_all_messages() == [{"action": "pong", "payload": None}]
        assert ws.close_code is None
