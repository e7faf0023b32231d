"""The Django project the tests drive: consumers, views, URLconf and the ASGI app."""

# mypy: disable-error-code="import-untyped"
# mypy: allow-untyped-decorators
from __future__ import annotations

import json
from typing import Any, Literal

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.core import (
    AuthResult,
    BaseAuthenticator,
    BaseEvent,
    BaseMessage,
    PingMessage,
    PongMessage,
    event_handler,
    ws_handler,
)
from chanx.core.types import Scope
from chanx.django import AsyncJsonWebsocketConsumer

# -- messages ---------------------------------------------------------------------------


class ChatPayload(BaseModel):
    text: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatLine(BaseModel):
    room_id: int
    text: str


class ChatNotification(BaseMessage):
    action: Literal["chat_message"] = "chat_message"
    payload: ChatLine


class UserJoinedEvent(BaseEvent):
    type: Literal["user_joined"] = "user_joined"
    username: str


class UserJoinedMessage(BaseMessage):
    action: Literal["user_joined"] = "user_joined"
    payload: str


class NotifyEvent(BaseEvent):
    type: Literal["notify"] = "notify"
    text: str


class NotificationMessage(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: str


class WhoAmIMessage(BaseMessage):
    action: Literal["whoami"] = "whoami"
    payload: None = None


class IdentityMessage(BaseMessage):
    action: Literal["identity"] = "identity"
    payload: dict[str, Any]


# -- consumers --------------------------------------------------------------------------


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """A room: ``ws/chat/<int:room_id>/`` joins ``room_<id>``."""

    @property
    def room_id(self) -> int:
        return int(self.path_params["room_id"])

    async def get_groups(self) -> list[str]:
        return [f"room_{self.room_id}"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        line = ChatLine(room_id=self.room_id, text=message.payload.text)
        await self.broadcast_message(ChatNotification(payload=line))

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> UserJoinedMessage:
        return UserJoinedMessage(payload=event.username)


class SessionUserAuthenticator(BaseAuthenticator):
    """The logged-in user AuthMiddlewareStack resolved from the session; no DRF needed."""

    async def authenticate(self, scope: Scope) -> AuthResult:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return AuthResult.deny("login required")
        return AuthResult.allow(user)


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Per-user notifications for the logged-in user: joins ``user_<pk>``."""

    authenticator_class = SessionUserAuthenticator

    async def get_groups(self) -> list[str]:
        return [f"user_{self.user.pk}"]

    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> IdentityMessage:
        return IdentityMessage(payload={"username": self.user.get_username()})

    @event_handler
    async def notify(self, event: NotifyEvent) -> NotificationMessage:
        return NotificationMessage(payload=event.text)


class PlainConsumer(CoreConsumer):
    """Written against chanx.core only: served by Django here and by Starlette elsewhere."""

    groups = ["plain"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(
            ChatNotification(payload=ChatLine(room_id=0, text=message.payload.text))
        )

    @event_handler
    async def user_joined(self, event: UserJoinedEvent) -> UserJoinedMessage:
        return UserJoinedMessage(payload=event.username)


# -- views (sync, as most Django views are) ----------------------------------------------


@csrf_exempt
def notify_view(request: HttpRequest, user_id: int) -> JsonResponse:
    """Raw dict through Channels' layer API, as Django code does it today."""
    text = json.loads(request.body)["text"]
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(f"user_{user_id}", {"type": "notify", "text": text})
    return JsonResponse({"sent": True})


@csrf_exempt
def notify_typed_view(request: HttpRequest, user_id: int) -> JsonResponse:
    """The typed sender of the consumer class."""
    text = json.loads(request.body)["text"]
    NotificationConsumer.broadcast_event_sync(NotifyEvent(text=text), groups=f"user_{user_id}")
    return JsonResponse({"sent": True})


urlpatterns = [
    path("notify/<int:user_id>/", notify_view),
    path("notify-typed/<int:user_id>/", notify_typed_view),
    path("asyncapi/", include("chanx.django.urls")),
]

websocket_urlpatterns = [
    path("ws/chat/<int:room_id>/", ChatConsumer.as_asgi(), name="chat"),
    path("ws/notifications/", NotificationConsumer.as_asgi(), name="notifications"),
    re_path(r"^ws/plain/(?P<slug>[-\w]+)/$", PlainConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        )
    }
)
