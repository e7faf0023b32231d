"""Handler discovery: decorators, annotations, mixins, duplicates and the message rules."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    BaseEvent,
    BaseMessage,
    PingMessage,
    PongMessage,
    channel,
    event_handler,
    routes_of,
    ws_handler,
)
from tests.core.messages import ChatMessage, EchoMessage, EchoReply, UserJoinedEvent


def test_action_must_be_a_literal() -> None:
    with pytest.raises(TypeError, match=r"Bad\.action must be declared as a Literal"):

        class Bad(BaseMessage):
            action: str = "bad"


def test_event_type_must_be_a_literal() -> None:
    with pytest.raises(TypeError, match=r"BadEvent\.type must be declared as a Literal"):

        class BadEvent(BaseEvent):
            type: str = "bad"


def test_abstract_bases_are_allowed() -> None:
    class AppMessage(BaseMessage):
        __abstract__ = True
        version: int = 1

    class Hello(AppMessage):
        action: Literal["hello"] = "hello"

    assert Hello().model_dump() == {"action": "hello", "version": 1}


def test_ref_is_left_out_when_unset() -> None:
    assert PongMessage().model_dump_json() == '{"action":"pong","payload":null}'
    assert PongMessage(ref="x").model_dump_json() == '{"action":"pong","ref":"x","payload":null}'


def test_bare_and_configured_decorators() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def ping(self, message: PingMessage) -> PongMessage:
            return PongMessage()

        @ws_handler(summary="Echo", tags=["demo"])
        async def echo(self, message: EchoMessage) -> EchoReply:
            """Echo the payload."""
            return EchoReply(payload=message.payload)

        @event_handler()
        async def joined(self, event: UserJoinedEvent) -> None: ...

    routes = routes_of(Consumer).ws
    assert set(routes.by_key) == {"ping", "echo"}
    echo = routes.by_key["echo"]
    assert echo.input_types == (EchoMessage,)
    assert echo.output_type is EchoReply
    assert echo.mark.summary == "Echo"
    assert echo.mark.tags == ("demo",)
    assert echo.description == "Echo the payload."
    assert routes_of(Consumer).event.by_key["user_joined"].output_type is None


def test_local_message_classes_resolve_under_future_annotations() -> None:
    class Local(BaseMessage):
        action: Literal["local"] = "local"

    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def local(self, message: Local) -> Local | PongMessage:
            return message

    handler = routes_of(Consumer).ws.by_key["local"]
    assert handler.input_types == (Local,)
    assert handler.output_type == Local | PongMessage


def test_union_input_routes_every_action() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def either(self, message: ChatMessage | EchoMessage) -> None: ...

    assert set(routes_of(Consumer).ws.by_key) == {"chat", "echo"}


def test_two_handlers_for_one_action_name_both() -> None:
    with pytest.raises(
        TypeError, match=r"Consumer\.first and .*Consumer\.second both handle action 'ping'"
    ):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler
            async def first(self, message: PingMessage) -> None: ...

            @ws_handler
            async def second(self, message: PingMessage) -> None: ...


def test_mixin_handlers_are_found_and_overridable() -> None:
    class PingMixin:
        @ws_handler
        async def handle_ping(self, message: PingMessage) -> PongMessage:
            return PongMessage()

    class Consumer(PingMixin, AsyncJsonWebsocketConsumer):
        @ws_handler
        async def chat(self, message: ChatMessage) -> None: ...

    assert routes_of(Consumer).ws.by_key["ping"].owner is PingMixin

    class Child(Consumer):
        @ws_handler
        async def handle_ping(self, message: PingMessage) -> PongMessage:
            return PongMessage(ref="child")

    assert routes_of(Child).ws.by_key["ping"].owner is Child
    assert set(routes_of(Child).ws.by_key) == {"ping", "chat"}


def test_handler_must_be_async() -> None:
    with pytest.raises(TypeError, match="must be an async function"):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler  # type: ignore[type-var]
            def ping(self, message: PingMessage) -> None: ...


def test_handler_parameter_must_be_a_message() -> None:
    class NotAMessage(BaseModel):
        x: int

    with pytest.raises(TypeError, match="must be annotated with a BaseMessage subclass"):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler
            async def bad(self, message: NotAMessage) -> None: ...

    with pytest.raises(TypeError, match="must be annotated with a BaseEvent subclass"):

        class Consumer2(AsyncJsonWebsocketConsumer):
            @event_handler
            async def bad(self, event: PingMessage) -> None: ...


def test_unresolvable_annotation_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot resolve the annotations"):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler
            async def bad(self, message: Missing) -> None: ...  # type: ignore[name-defined]  # noqa: F821


def test_channel_metadata() -> None:
    @channel(name="chat", description="Chat rooms", tags=["rooms"])
    class Consumer(AsyncJsonWebsocketConsumer):
        """Docstring."""

    info = Consumer.__chanx_channel__  # type: ignore[attr-defined]
    assert (info.name, info.description, info.tags) == ("chat", "Chat rooms", ("rooms",))
