"""The demo's consumers: per-user notifications, and chat rooms built on top of them.

Both need a logged-in user: the session cookie is read by Channels' AuthMiddlewareStack and
checked by DRF's ``IsAuthenticated`` (rejected sockets close with 4401 before joining any
group).
"""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from chanx.core import PingMessage, PongMessage, event_handler, ws_handler
from chanx.django import AsyncJsonWebsocketConsumer

from .messages import (
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


class UserConsumer(AsyncJsonWebsocketConsumer):
    """Private notifications: ``/ws/notifications/`` joins ``user_<username>``."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @property
    def username(self) -> str:
        return str(self.user.get_username())

    async def get_groups(self) -> list[str]:
        return [user_group(self.username)]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @event_handler
    async def notify(self, event: NotifyEvent) -> NotificationMessage:
        return NotificationMessage(payload=Notification(text=event.text, sender=event.sender))


class ChatConsumer(UserConsumer):
    """A room: ``/ws/chat/<room>/`` joins ``room_<room>`` and ``user_<username>``."""

    emits = [ChatNotification]  # broadcast from handle_chat: listed for the AsyncAPI document

    @property
    def room(self) -> str:
        return str(self.path_params["room"])

    async def get_groups(self) -> list[str]:
        return [*await super().get_groups(), room_group(self.room)]

    async def on_connect(self) -> None:
        joined = UserJoinedEvent(room=self.room, username=self.username)
        await self.broadcast_event(joined, groups=room_group(self.room))

    async def on_disconnect(self, code: int) -> None:
        left = UserLeftEvent(room=self.room, username=self.username)
        await self.broadcast_event(left, groups=room_group(self.room))

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        line = ChatLine(room=self.room, username=self.username, text=message.payload.text)
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
