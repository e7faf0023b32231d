"""Over a real socket: uvicorn serves a consumer; shutdown is graceful."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import anyio
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chanx.core import PingMessage, PongMessage, ws_handler
from chanx.core.layers import InMemoryChannelLayer
from chanx.fastapi import AsyncJsonWebsocketConsumer

closed_codes: list[int] = []
all_closed = anyio.Event()


class RoomConsumer(AsyncJsonWebsocketConsumer):
    groups = ["lobby"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    async def on_disconnect(self, code: int) -> None:
        closed_codes.append(code)
        if len(closed_codes) == 2:
            all_closed.set()


@pytest.fixture
async def server(memory_layer: InMemoryChannelLayer) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    app = FastAPI()
    app.router.add_websocket_route("/ws", RoomConsumer.as_asgi())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # clients queue in the backlog until uvicorn starts accepting
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, ws="websockets-sansio", log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield server, port
    finally:
        server.should_exit = True
        with anyio.fail_after(10):
            await task
        sock.close()


async def test_ping_pong_and_graceful_shutdown(
    server: tuple[uvicorn.Server, int], memory_layer: InMemoryChannelLayer
) -> None:
    global all_closed
    closed_codes.clear()
    all_closed = anyio.Event()
    uvicorn_server, port = server
    async with connect(f"ws://127.0.0.1:{port}/ws") as a, connect(f"ws://127.0.0.1:{port}/ws") as b:
        await a.send('{"action": "ping"}')
        with anyio.fail_after(5):
            assert json.loads(await a.recv()) == {"action": "pong", "payload": None}
        assert len(memory_layer._groups["lobby"]) == 2
        uvicorn_server.should_exit = True
        with anyio.fail_after(10):
            await all_closed.wait()
            for client in (a, b):
                with pytest.raises(ConnectionClosed) as info:
                    await client.recv()
                assert info.value.rcvd is not None
                assert info.value.rcvd.code == 1012  # service restart
    assert closed_codes == [1012, 1012]
    assert not memory_layer._groups.get("lobby")
