"""FastAPI's own ways of declaring websocket routes serve a consumer, or fail at start-up.

Seen: ``app.add_api_websocket_route(path, Consumer.as_asgi())`` refused every handshake
with a 403 whose reason listed missing ``receive``/``send`` query fields.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
from collections.abc import AsyncIterator

import anyio
import pytest
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from websockets.asyncio.client import connect

from chanx.core import PingMessage, PongMessage, TokenAuthenticator, ws_handler
from chanx.core.asyncapi import build_asyncapi
from chanx.fastapi import AsyncJsonWebsocketConsumer
from chanx.testing import HandshakeRefusedError, WebsocketCommunicator

disconnects: list[int] = []


class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def get_groups(self) -> list[str]:
        return [f"room_{self.path_params['room_id']}"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    async def on_disconnect(self, code: int) -> None:
        disconnects.append(code)


def build_app(seen: list[str] | None = None) -> FastAPI:
    async def record_path(websocket: WebSocket) -> None:
        if seen is not None:
            seen.append(websocket.url.path)

    app = FastAPI()
    app.add_api_websocket_route("/api/{room_id:int}", RoomConsumer.as_asgi())
    app.websocket("/decorated/{room_id}")(RoomConsumer.as_asgi())
    router = APIRouter(dependencies=[Depends(record_path)])
    router.add_api_websocket_route("/routed/{room_id}", RoomConsumer.as_asgi())
    router.websocket("/routed-decorated/{room_id}")(RoomConsumer.as_asgi())
    app.include_router(router, prefix="/r")
    return app


@pytest.mark.parametrize("path", ["/api/1", "/decorated/2", "/r/routed/3", "/r/routed-decorated/4"])
async def test_fastapi_route_styles_serve_the_consumer(path: str) -> None:
    disconnects.clear()
    async with WebsocketCommunicator(build_app(), path) as ws:
        await ws.send_json({"action": "ping", "ref": 1})
        assert await ws.receive_json() == {"action": "pong", "ref": 1, "payload": None}
    assert disconnects == [1000]


async def test_path_parameters_are_converted_and_router_dependencies_run() -> None:
    seen: list[str] = []
    rooms: list[object] = []

    class Recording(RoomConsumer):
        async def get_groups(self) -> list[str]:
            rooms.append(self.path_params["room_id"])
            return await super().get_groups()

    app = FastAPI()
    app.add_api_websocket_route("/api/{room_id:int}", Recording.as_asgi())
    router = APIRouter(dependencies=[Depends(lambda: seen.append("dependency ran"))])
    router.add_api_websocket_route("/x/{room_id}", Recording.as_asgi())
    app.include_router(router)
    for path in ("/api/7", "/x/8"):
        async with WebsocketCommunicator(app, path) as ws:
            await ws.send_json({"action": "ping"})
            await ws.receive_json()
    assert rooms == [7, "8"]
    assert seen == ["dependency ran"]


def test_the_class_itself_fails_at_route_creation_naming_as_asgi() -> None:
    app = FastAPI()
    message = r"mount RoomConsumer\.as_asgi\(\) instead"
    with pytest.raises(TypeError, match=message):
        app.websocket("/ws")(RoomConsumer)
    with pytest.raises(TypeError, match=message):
        app.add_api_websocket_route("/ws", RoomConsumer)
    with pytest.raises(TypeError, match=message):
        APIRouter().websocket("/ws")(RoomConsumer)


def test_an_instance_keeps_its_ordinary_signature() -> None:
    assert list(inspect.signature(RoomConsumer()).parameters) == ["scope", "receive", "send"]


def test_the_asyncapi_document_lists_fastapi_routes() -> None:
    document = build_asyncapi(build_app(), title="t", version="1")
    addresses = sorted(channel["address"] for channel in document["channels"].values())
    assert addresses == [
        "/api/{room_id}",
        "/decorated/{room_id}",
        "/r/routed-decorated/{room_id}",
        "/r/routed/{room_id}",
    ]


@pytest.fixture
async def served_app() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    # websockets-sansio: the implementation docs/production.md recommends. uvicorn's default
    # ("websockets") is websockets' legacy API on older uvicorn releases, which warns (0.35
    # with websockets >= 14) or fails the handshake (with websockets 13.0): nox -s tests_lowest.
    config = uvicorn.Config(
        build_app(), ws="websockets-sansio", log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        with anyio.fail_after(10):
            await task
        sock.close()


async def test_add_api_websocket_route_over_a_real_socket(served_app: int) -> None:
    async with connect(f"ws://127.0.0.1:{served_app}/api/1") as client:
        await client.send('{"action": "ping"}')
        with anyio.fail_after(5):
            assert json.loads(await client.recv()) == {"action": "pong", "payload": None}


class NoTokens(TokenAuthenticator):
    async def verify_token(self, token: str) -> None:
        return None


class GuardedConsumer(RoomConsumer):
    authenticator_class = NoTokens


async def test_rejections_pass_through_fastapis_websocket() -> None:
    app = FastAPI()
    app.add_api_websocket_route(
        "/deny/{room_id}", GuardedConsumer.as_asgi(reject_in_handshake=True)
    )
    app.add_api_websocket_route("/close/{room_id}", GuardedConsumer.as_asgi())
    with pytest.raises(HandshakeRefusedError) as refused:
        async with WebsocketCommunicator(app, "/deny/1"):
            pass
    assert refused.value.response_status == 401
    async with WebsocketCommunicator(app, "/close/1") as ws:
        assert (await ws.receive_json())["payload"]["code"] == "unauthenticated"
        await ws.assert_closed(4401)
