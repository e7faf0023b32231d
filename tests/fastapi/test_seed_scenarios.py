"""The seed's scenarios through the FastAPI adapter, on wire frames."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import httpx
import pytest
from asgiref.sync import async_to_sync
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute

from chanx.core import (
    BaseEvent,
    BaseMessage,
    PingMessage,
    PongMessage,
    TokenAuthenticator,
    event_handler,
    get_channel_layer,
    ws_handler,
)
from chanx.core.layers import InMemoryChannelLayer
from chanx.fastapi import AsyncJsonWebsocketConsumer
from chanx.testing import WebsocketCommunicator

pytestmark = pytest.mark.usefixtures("memory_layer")

TOKENS = {"t-42": 42, "t-7": 7}


async def user_for(token: str) -> Any:
    user_id = TOKENS.get(token)
    return None if user_id is None else {"id": user_id}


class ChatPayload(BaseModel):
    text: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatNotification(BaseMessage):
    action: Literal["chat_notification"] = "chat_notification"
    payload: ChatPayload


class NotifyEvent(BaseEvent):
    type: Literal["notify"] = "notify"
    text: str


class UserJoinedEvent(BaseEvent):
    type: Literal["user_joined"] = "user_joined"
    username: str


class Notification(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: str


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """Rooms are groups room_{id}; every user also listens on user_{id}."""

    authenticator_class = TokenAuthenticator.using(user_for)

    async def get_groups(self) -> list[str]:
        return [f"room_{self.path_params['room_id']}", f"user_{self.user['id']}"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        room = f"room_{self.path_params['room_id']}"
        exclude = self.connection.query_params.get("echo") == "no"
        await self.broadcast_message(
            ChatNotification(payload=message.payload), room, exclude_current=exclude
        )

    @event_handler
    async def notify(self, event: NotifyEvent) -> Notification:
        return Notification(payload=event.text)

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> Notification:
        return Notification(payload=f"{event.username} joined")


def make_app() -> FastAPI:
    app = FastAPI()
    app.router.add_websocket_route("/ws/chat/{room_id}", ChatConsumer.as_asgi())

    @app.post("/api/notify/{user_id}")
    async def notify(user_id: int, body: dict[str, str]) -> dict[str, bool]:
        await ChatConsumer.broadcast_event(NotifyEvent(text=body["text"]), f"user_{user_id}")
        return {"sent": True}

    return app


def client(app: Any, room: int, token: str = "t-42", query: str = "") -> WebsocketCommunicator:
    return WebsocketCommunicator(app, f"/ws/chat/{room}?token={token}{query}")


async def test_ping_pong() -> None:
    async with client(make_app(), 1) as ws:
        await ws.send_message(PingMessage())
        assert await ws.receive_message(PongMessage) == PongMessage()


async def test_room_broadcast_reaches_room_members_only() -> None:
    app = make_app()
    async with (
        client(app, 1) as a,
        client(app, 1, "t-7") as b,
        client(app, 1) as c,
        client(app, 2) as other,
    ):
        await a.send_message(ChatMessage(payload=ChatPayload(text="hello room 1")))
        for ws in (a, b, c):
            notification = await ws.receive_message(ChatNotification)
            assert notification.payload.text == "hello room 1"
        assert await other.receive_nothing()


async def test_exclude_current() -> None:
    app = make_app()
    async with client(app, 1, query="&echo=no") as a, client(app, 1) as b:
        await a.send_message(ChatMessage(payload=ChatPayload(text="x")))
        assert (await b.receive_json())["action"] == "chat_notification"
        assert await a.receive_nothing()


async def test_http_post_notifies_one_user() -> None:
    app = make_app()
    async with client(app, 1) as user42, client(app, 1, "t-7") as user7:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post("/api/notify/42", json={"text": "you have mail"})
        assert response.json() == {"sent": True}
        assert await user42.receive_json() == {"action": "notification", "payload": "you have mail"}
        assert await user7.receive_nothing()


async def test_sync_code_with_async_to_sync_reaches_the_consumer() -> None:
    def task() -> None:  # what a Celery task or a sync view does
        async_to_sync(get_channel_layer().group_send)(
            "user_42", {"type": "notify", "text": "from sync"}
        )

    async with client(make_app(), 3) as ws:
        with anyio.fail_after(5):
            await anyio.to_thread.run_sync(task)
        assert (await ws.receive_json())["payload"] == "from sync"


async def test_raw_dict_event_reaches_typed_handler(memory_layer: InMemoryChannelLayer) -> None:
    async with client(make_app(), 1) as ws:
        await memory_layer.group_send("room_1", {"type": "user_joined", "username": "alice"})
        assert (await ws.receive_json())["payload"] == "alice joined"


async def test_no_token_closes_4401_before_any_group() -> None:
    app = make_app()
    async with client(app, 1) as member:
        async with WebsocketCommunicator(app, "/ws/chat/1") as ws:
            await ws.receive_json()
            await ws.assert_closed(4401)
        assert len(get_channel_layer()._groups["room_1"]) == 1  # type: ignore[attr-defined]
        await member.send_message(PingMessage())
        assert (await member.receive_json())["action"] == "pong"


async def test_bad_token_closes_4401() -> None:
    async with client(make_app(), 1, token="nope") as ws:
        assert (await ws.receive_json())["payload"]["code"] == "unauthenticated"
        await ws.assert_closed(4401)


def mounted_apps() -> list[Any]:
    router = APIRouter()
    router.add_websocket_route("/chat/{room_id}", ChatConsumer.as_asgi())
    with_router = FastAPI()
    with_router.include_router(router, prefix="/ws")
    starlette_app = Starlette(routes=[WebSocketRoute("/ws/chat/{room_id}", ChatConsumer.as_asgi())])
    mounted = Starlette(
        routes=[Mount("/ws", routes=[WebSocketRoute("/chat/{room_id}", ChatConsumer.as_asgi())])]
    )
    return [make_app(), with_router, starlette_app, mounted]


@pytest.mark.parametrize("app", mounted_apps(), ids=["fastapi", "apirouter", "starlette", "mount"])
async def test_mounting_styles_and_path_params(app: Any) -> None:
    async with client(app, 9) as ws, client(app, 9, "t-7") as other:
        await ws.send_message(ChatMessage(payload=ChatPayload(text="nine")))
        assert (await other.receive_json())["payload"] == {"text": "nine"}
