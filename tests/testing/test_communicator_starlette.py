"""WebsocketCommunicator drives a real framework's WebSocket endpoints, not only raw apps."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from chanx.testing import HandshakeRefusedError, WebsocketCommunicator


async def echo(websocket: WebSocket) -> None:
    if websocket.query_params.get("token") != "secret":
        await websocket.send_denial_response(PlainTextResponse("bad token", status_code=401))
        return
    await websocket.accept(subprotocol="chanx")
    try:
        while True:
            data = await websocket.receive_json()
            if data == {"action": "quit"}:
                await websocket.close(4401, reason="bye")
                return
            await websocket.send_json({"echo": data, "room": websocket.path_params["room"]})
    except WebSocketDisconnect:
        pass


app = Starlette(routes=[WebSocketRoute("/ws/{room}", echo)])


async def test_starlette_endpoint_round_trip_and_close() -> None:
    ws = WebsocketCommunicator(app, "/ws/lobby?token=secret", subprotocols=["chanx"], timeout=2.0)
    async with ws:
        assert (ws.accepted, ws.subprotocol) == (True, "chanx")
        await ws.send_json({"n": 1})
        assert await ws.receive_json() == {"echo": {"n": 1}, "room": "lobby"}
        assert await ws.receive_nothing()
        await ws.send_json({"action": "quit"})
        closed = await ws.assert_closed(4401)
        assert closed["reason"] == "bye"


async def test_starlette_denial_response() -> None:
    ws = WebsocketCommunicator(app, "/ws/lobby", query_string={"token": "wrong"})
    result = await ws.connect()
    assert (result.accepted, result.response_status, result.response_body) == (
        False,
        401,
        b"bad token",
    )
    await ws.disconnect()


async def test_an_unknown_route_raises_on_enter_with_the_close_code() -> None:
    # Seen: `async with` on a wrong path went on, and the test failed later with a
    # misleading "the app finished without a frame".
    with pytest.raises(HandshakeRefusedError, match=r"'/nowhere'.*code 1000") as caught:
        async with WebsocketCommunicator(app, "/nowhere"):
            pytest.fail("the body must not run after a refused handshake")
    assert (caught.value.close_code, caught.value.response_status) == (1000, 403)


async def test_a_denial_response_raises_on_enter_with_the_status() -> None:
    with pytest.raises(HandshakeRefusedError, match="HTTP 401 and body b'bad token'") as caught:
        async with WebsocketCommunicator(app, "/ws/lobby?token=wrong"):
            pass
    assert caught.value.response_status == 401
    assert caught.value.close_code is None
    assert caught.value.result.response_body == b"bad token"


async def test_connect_returns_a_refusal_instead_of_raising() -> None:
    ws = WebsocketCommunicator(app, "/nowhere")
    result = await ws.connect()
    assert (result.accepted, result.close_code, result.response_status) == (False, 1000, 403)
    await ws.disconnect()
