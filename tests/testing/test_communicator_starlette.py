"""WebsocketCommunicator drives a real framework's WebSocket endpoints, not only raw apps."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from chanx.testing import WebsocketCommunicator


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


async def test_starlette_unknown_route_is_closed_before_accept() -> None:
    async with WebsocketCommunicator(app, "/nowhere") as ws:
        assert not ws.accepted
        assert ws.close_code == 1000
