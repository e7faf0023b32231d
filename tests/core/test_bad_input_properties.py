"""Property test: whatever text or bytes a client sends, it gets exactly one answer and the
socket keeps serving."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chanx.core.layers import InMemoryChannelLayer, register_channel_layer, unregister_channel_layer
from chanx.testing import WebsocketCommunicator
from tests.core.consumers import ChatConsumer

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
frames = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"action": st.sampled_from(["chat", "echo", "ping", "nope", ""]) | st.text(max_size=10)},
        optional={"payload": json_values, "ref": json_values},
    ).map(json.dumps),
    st.binary(max_size=50),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=frames)
async def test_any_frame_gets_one_answer_and_the_socket_stays_open(frame: str | bytes) -> None:
    register_channel_layer("default", InMemoryChannelLayer())
    try:
        async with WebsocketCommunicator(ChatConsumer.as_asgi(send_completion=True), "/ws") as ws:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_text(frame)
            answers = await ws.receive_all_messages()
            if answers and answers[0]["action"] == "error":
                assert len(answers) == 1
                assert set(answers[0]["payload"]) <= {"code", "detail", "errors", "error_count"}
            await ws.send_json({"action": "ping"})
            assert await ws.receive_all_messages() == [{"action": "pong", "payload": None}]
    finally:
        unregister_channel_layer("default")
