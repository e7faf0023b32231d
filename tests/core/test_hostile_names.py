"""Group and channel names from a hostile path: full matches, a clear close, one WARNING."""

from __future__ import annotations

import logging

import pytest

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core.layers import (
    InMemoryChannelLayer,
    require_valid_channel_name,
    require_valid_group_name,
)
from chanx.testing import WebsocketCommunicator

pytestmark = pytest.mark.usefixtures("memory_layer")


@pytest.mark.parametrize(
    "name",
    ["room_abc\n", "room abc", "room*", "{room}", "room\x00", "salle_é", "x" * 100, "", "a\nb"],
)
def test_invalid_group_names_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match="Group name"):
        require_valid_group_name(name)


@pytest.mark.parametrize("name", ["room_abc", "a.b-c_D9", "x" * 99])
def test_valid_group_names_pass(name: str) -> None:
    assert require_valid_group_name(name) == name


@pytest.mark.parametrize("name", ["specific.abc!def\n", "abc\n", "a!b!c", "x" * 100])
def test_invalid_channel_names_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match="Channel name"):
        require_valid_channel_name(name)


async def test_a_trailing_newline_is_not_a_separate_group(
    memory_layer: InMemoryChannelLayer,
) -> None:
    with pytest.raises(TypeError):
        await memory_layer.group_add("room_abc\n", await memory_layer.new_channel())
    assert memory_layer._groups == {}


class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def get_groups(self) -> list[str]:
        return [
            f"room_{self.scope['path_params']['room']}"
        ]  # set by the test; no adapter in core-only runs

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


@pytest.mark.parametrize("room", ["abc\n", "a b", "*", "{}", "\x00", "é", "x" * 100])
async def test_an_invalid_group_from_get_groups_closes_4400_with_one_warning(
    room: str, caplog: pytest.LogCaptureFixture, memory_layer: InMemoryChannelLayer
) -> None:
    ws = WebsocketCommunicator(RoomConsumer.as_asgi(), "/ws")
    ws.scope["path_params"] = {"room": room}
    with caplog.at_level(logging.DEBUG, logger="chanx"):
        result = await ws.connect()
        assert result.accepted  # a browser can read the close code and reason
        error = await ws.receive_json()
        assert error["payload"]["code"] == "invalid_group_name"
        closed = await ws.assert_closed(4400)
    assert closed["reason"] == "invalid group name"
    await ws.disconnect()
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert "RoomConsumer" in records[0].getMessage()
    assert memory_layer._groups == {}


async def test_an_invalid_group_can_be_denied_in_the_handshake_with_http_400() -> None:
    ws = WebsocketCommunicator(RoomConsumer.as_asgi(reject_in_handshake=True), "/ws")
    ws.scope["path_params"] = {"room": "abc\n"}
    result = await ws.connect()
    assert not result.accepted
    assert result.response_status == 400
    await ws.disconnect()


async def test_a_valid_group_from_the_path_still_joins(memory_layer: InMemoryChannelLayer) -> None:
    ws = WebsocketCommunicator(RoomConsumer.as_asgi(), "/ws")
    ws.scope["path_params"] = {"room": "abc"}
    async with ws:
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"
        assert "room_abc" in memory_layer._groups


def test_a_long_invalid_name_is_quoted_clipped() -> None:
    # Outside trial: an 8,000-character room id in the URL wrote an 8 KB log line per
    # refused handshake; the error quotes the start of the name and its length.
    for check in (require_valid_group_name, require_valid_channel_name):
        with pytest.raises(TypeError) as caught:
            check("room_" + "b" * 8000)
        assert len(str(caught.value)) < 300
        assert "8007 characters" in str(caught.value)
