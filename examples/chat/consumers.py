"""The demo's consumers: per-user notifications, and chat rooms built on top of them."""

from __future__ import annotations

import re

from chanx.core import (
    AuthResult,
    PingMessage,
    PongMessage,
    TokenAuthenticator,
    event_handler,
    ws_handler,
)
from chanx.core.types import Scope
from chanx.fastapi import AsyncJsonWebsocketConsumer

from .messages import (
    NAME_PATTERN,
    ChatLine,
    ChatMessage,
    ChatNotification,
    Notification,
    NotificationMessage,
    NotifyEvent,
    Presence,
    PresenceMessage,
    UserJoinedEvent,
    UserLeftEvent,
)


def user_group(username: str) -> str:
    return f"user_{username}"


def room_group(room: str) -> str:
    return f"room_{room}"


class DemoAuthenticator(TokenAuthenticator):
    """Demo only: the token *is* the username (``?token=alice``). Never do this for real.

    A real app checks a signed token or a session here and returns its user.
    """

    async def verify_token(self, token: str) -> str | None:
        return token if re.fullmatch(NAME_PATTERN, token) else None


class RoomAuthenticator(DemoAuthenticator):
    """Also refuses room names that cannot be part of a group name (close code 4403)."""

    async def authenticate(self, scope: Scope) -> AuthResult:
        room = str(scope.get("path_params", {}).get("room_id", ""))
        if not re.fullmatch(NAME_PATTERN, room):
            return AuthResult.deny(f"invalid room name {room[:32]!r}", forbidden=True)
        return await super().authenticate(scope)


class UserConsumer(AsyncJsonWebsocketConsumer):
    """Private notifications: ``/ws/notifications?token=<name>`` joins ``user_<name>``."""

    authenticator_class = DemoAuthenticator
    # A chat line is at most 1,000 characters: 16 KiB is plenty. The server's own limit
    # (uvicorn --ws-max-size, set in serve.py) matches it.
    max_frame_bytes = 16 * 1024
    # uvicorn's --limit-concurrency does not count WebSocket upgrades: cap sockets here.
    max_connections = 1000
    # One name may hold a few tabs open, not every slot of the server.
    max_connections_per_key = 20

    @property
    def username(self) -> str:
        return str(self.user)

    async def get_groups(self) -> list[str]:
        return [user_group(self.username)]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @event_handler
    async def notify(self, event: NotifyEvent) -> NotificationMessage:
        return NotificationMessage(payload=Notification(text=event.text, sender=event.sender))


class ChatConsumer(UserConsumer):
    """A chat room: ``/ws/chat/{room_id}?token=<name>`` joins ``room_<id>`` and ``user_<name>``.

    Ping and notifications come from `UserConsumer`: handlers are inherited.
    """

    authenticator_class = RoomAuthenticator
    emits = [ChatNotification]  # broadcast from handle_chat: listed for the AsyncAPI document
    # Each chat frame is a broadcast: a client bursting thousands of them would fill the
    # other members' layer channels faster than their sockets drain them. People type
    # slower than this; a script hitting it gets `rate_limited` error frames.
    rate_limit = (20, 40)

    @property
    def room(self) -> str:
        return str(self.path_params["room_id"])

    async def get_groups(self) -> list[str]:
        return [*await super().get_groups(), room_group(self.room)]

    async def on_connect(self) -> None:
        joined = UserJoinedEvent(room=self.room, username=self.username)
        await self.broadcast_event(joined, groups=room_group(self.room))

    async def on_disconnect(self, code: int) -> None:
        # The groups are already left, so everyone else hears it, but not this socket.
        left = UserLeftEvent(room=self.room, username=self.username)
        await self.broadcast_event(left, groups=room_group(self.room))

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        line = ChatLine(room=self.room, username=self.username, text=message.payload.text)
        # Encoded once, then forwarded as is to every socket in the room, the sender's too.
        await self.broadcast_message(ChatNotification(payload=line), groups=room_group(self.room))

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> PresenceMessage:
        return PresenceMessage(
            payload=Presence(room=event.room, username=event.username, status="joined")
        )

    @event_handler
    async def user_left(self, event: UserLeftEvent) -> PresenceMessage:
        return PresenceMessage(
            payload=Presence(room=event.room, username=event.username, status="left")
        )
