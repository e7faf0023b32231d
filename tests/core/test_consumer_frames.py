"""Client frames: replies, ref echo, completion frames and every kind of bad input."""

from __future__ import annotations

import json
import logging

import pytest

from chanx.testing import WebsocketCommunicator
from tests.core.consumers import ChatConsumer

pytestmark = pytest.mark.usefixtures("memory_layer")


def communicator(**options: object) -> WebsocketCommunicator:
    return WebsocketCommunicator(ChatConsumer.as_asgi(**options), "/ws")


async def test_ping_gets_pong() -> None:
    async with communicator() as ws:
        await ws.send_json({"action": "ping"})
        assert await ws.receive_json() == {"action": "pong", "payload": None}


async def test_reply_echoes_ref() -> None:
    async with communicator() as ws:
        await ws.send_json({"action": "echo", "payload": {"a": 1}, "ref": "r-7"})
        assert await ws.receive_json() == {
            "action": "echo_reply",
            "ref": "r-7",
            "payload": {"a": 1},
        }


BAD_FRAMES = [
    ("{not json", "invalid_json"),
    ("[1, 2]", "invalid_message"),
    ('"text"', "invalid_message"),
    ("{}", "missing_action"),
    ('{"payload": {"text": "hi"}}', "missing_action"),
    ('{"action": "nope"}', "unknown_action"),
    ('{"action": 5}', "unknown_action"),
    ('{"action": "chat", "payload": {"text": 5}}', "validation_error"),
    ('{"action": "chat"}', "validation_error"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_bad_frame_gets_error_and_socket_stays_open(frame: str, code: str) -> None:
    async with communicator() as ws:
        await ws.send_text(frame)
        error = await ws.receive_json()
        assert error["action"] == "error"
        assert error["payload"]["code"] == code
        assert error["payload"]["detail"]
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


async def test_validation_error_lists_fields_without_the_tag() -> None:
    async with communicator() as ws:
        await ws.send_json({"action": "chat", "payload": {"text": 5}, "ref": 3})
        error = await ws.receive_json()
    assert error["ref"] == 3
    assert error["payload"]["errors"] == [
        {"loc": ["payload", "text"], "msg": "Input should be a valid string", "type": "string_type"}
    ]


async def test_unknown_action_names_the_known_ones() -> None:
    async with communicator() as ws:
        await ws.send_json({"action": "nope", "ref": "x"})
        error = await ws.receive_json()
    assert error["ref"] == "x"
    assert error["payload"]["detail"].startswith('unknown action: "nope"; expected one of ')
    assert '"ping"' in error["payload"]["detail"]


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ('{"action": null}', "unknown action: null; expected one of "),
        ('{"action": "None"}', 'unknown action: "None"; expected one of '),
        ('{"action": 5}', "unknown action: 5; expected one of "),
        ('{"action": "5"}', 'unknown action: "5"; expected one of '),
        ('{"action": true}', "unknown action: true; expected one of "),
        ('{"action": {"a": [1]}}', 'unknown action: {"a":[1]}; expected one of '),
        ('{"payload": {}}', 'frame has no "action"; expected one of "chat", '),
    ],
)
async def test_error_details_quote_values_as_json_not_python(frame: str, detail: str) -> None:
    # A client reads `null`, `true` and "double quotes", not `'None'`, `'True'` or '...'.
    async with communicator() as ws:
        await ws.send_text(frame)
        error = (await ws.receive_json())["payload"]["detail"]
    assert error.startswith(detail)
    assert "'" not in error


async def test_binary_frame_gets_error() -> None:
    async with communicator() as ws:
        await ws.send_bytes(b'{"action": "ping"}')
        assert (await ws.receive_json())["payload"]["code"] == "binary_frame"
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


async def test_handler_exception_sends_error_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="chanx.consumer"):
        async with communicator() as ws:
            await ws.send_json({"action": "fail", "ref": 1})
            text = await ws.receive_text()
            await ws.send_json({"action": "ping"})
            assert (await ws.receive_json())["action"] == "pong"
    error = json.loads(text)
    assert error["payload"]["code"] == "handler_error"
    assert error["ref"] == 1
    assert "secret" not in text
    assert "Traceback" not in text
    assert "secret internal detail" in caplog.text  # logged for the operator


async def test_completion_frames_after_each_frame() -> None:
    async with communicator(send_completion=True) as ws:
        await ws.send_json({"action": "ping", "ref": "a"})
        assert await ws.receive_all_messages() == [{"action": "pong", "ref": "a", "payload": None}]
        await ws.send_text("{bad")
        frames = await ws.receive_all_messages()
        assert [f["payload"]["code"] for f in frames] == ["invalid_json"]
        await ws.send_json({"action": "chat", "payload": {"text": "hi"}})
        # the broadcast comes back through the layer, possibly after the completion frame
        frames = await ws.receive_all_messages()
        assert frames in ([], [{"action": "chat_notification", "payload": {"text": "hi"}}])


async def test_as_asgi_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="nonsense"):
        ChatConsumer.as_asgi(nonsense=True)
