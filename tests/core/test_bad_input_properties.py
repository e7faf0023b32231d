"""Property test: whatever text or bytes a client sends, it gets exactly one answer and the
socket keeps serving, on consumers with no handler, one handler and many."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core.layers import InMemoryChannelLayer, register_channel_layer, unregister_channel_layer
from chanx.testing import WebsocketCommunicator
from tests.core.consumers import ChatConsumer


class NoHandlers(AsyncJsonWebsocketConsumer):
    pass


class OneHandler(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
# Actions a decoder knows, including the placeholders that fill a small consumer's union.
actions = st.sampled_from(
    ["chat", "echo", "ping", "nope", "", "\x00chanx-unused-0", "\x00chanx-unused-1"]
) | st.text(max_size=10)
frames = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"action": actions | json_values},
        optional={"payload": json_values, "ref": json_values},
    ).map(json.dumps),
    st.binary(max_size=50),
)
ERROR_KEYS = {"code", "detail", "errors", "error_count"}


@pytest.mark.parametrize("consumer", [NoHandlers, OneHandler, ChatConsumer])
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=frames)
async def test_any_frame_gets_one_answer_and_the_socket_stays_open(
    consumer: type[AsyncJsonWebsocketConsumer], frame: str | bytes
) -> None:
    register_channel_layer("default", InMemoryChannelLayer())
    try:
        app = consumer.as_asgi(send_completion=True)
        async with WebsocketCommunicator(app, "/ws") as ws:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_text(frame)
            answers = await ws.receive_all_messages()
            assert answers, "every frame gets a reply or an error frame"
            if answers[0]["action"] == "error":
                assert len(answers) == 1
                assert set(answers[0]["payload"]) <= ERROR_KEYS
                assert answers[0]["payload"]["detail"]
            # Still serving: the next frame is answered too.
            await ws.send_text("{}")
            [error] = await ws.receive_all_messages()
            assert error["payload"]["code"] == "missing_action"
            assert ws.close_code is None
    finally:
        unregister_channel_layer("default")
