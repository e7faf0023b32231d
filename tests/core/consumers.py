"""Consumers shared by the core tests."""

from __future__ import annotations

from typing import Any

import anyio

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    PingMessage,
    PongMessage,
    TokenAuthenticator,
    event_handler,
    ws_handler,
)
from tests.core.messages import (
    ChatMessage,
    ChatNotification,
    EchoMessage,
    EchoReply,
    FailMessage,
    SlowMessage,
    UserJoinedEvent,
    UserJoinedNotice,
)

USERS = {"good-token": {"id": 42, "name": "alice"}}
events: list[str] = []


async def verify(token: str) -> Any:
    return USERS.get(token)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """A room chat: frames from tests/core/messages.py."""

    groups = ["room_1"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoReply:
        return EchoReply(payload=message.payload)

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatNotification(payload=message.payload))

    @ws_handler
    async def handle_fail(self, message: FailMessage) -> None:
        raise RuntimeError("secret internal detail")

    @ws_handler
    async def handle_slow(self, message: SlowMessage) -> None:
        events.append("slow started")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("slow cancelled")

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> UserJoinedNotice:
        return UserJoinedNotice(payload=event.username)

    async def on_disconnect(self, code: int) -> None:
        events.append(f"disconnected {code}")


class AuthConsumer(ChatConsumer):
    authenticator_class = TokenAuthenticator.using(verify)

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        assert self.user == USERS["good-token"]
        return PongMessage()
