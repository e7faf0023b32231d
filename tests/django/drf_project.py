"""Consumers guarded by Django REST framework classes (imported only when DRF is installed)."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.contrib.auth.models import Group
from django.urls import path
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated

from chanx.core import ws_handler
from chanx.django import AsyncJsonWebsocketConsumer, DjangoAuthenticator

from .project import IdentityMessage, WhoAmIMessage


class IsMember(BasePermission):  # type: ignore[misc]
    """Object permission: the user belongs to the group the URL names."""

    message = "You are not a member of this room."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return bool(obj.user_set.filter(pk=request.user.pk).exists())


class IdentityConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> IdentityMessage:
        obj = self.obj
        return IdentityMessage(
            payload={
                "username": self.user.get_username() if self.user is not None else None,
                "authenticated": bool(getattr(self.user, "is_authenticated", False)),
                "room": obj.name if obj is not None else None,
            }
        )


class TokenConsumer(IdentityConsumer):
    """DRF options set on the consumer itself, as in DRF views."""

    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [IsAuthenticated]
    token_query_param = "token"


class RoomAuthenticator(DjangoAuthenticator):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated, IsMember]
    queryset = Group.objects.all()
    lookup_url_kwarg = "room_id"


class RoomConsumer(IdentityConsumer):
    """Object permissions through an authenticator class."""

    authenticator_class = RoomAuthenticator


class DefaultsConsumer(IdentityConsumer):
    """DRF's DEFAULT_* classes (from settings.REST_FRAMEWORK)."""

    authenticator_class = DjangoAuthenticator


websocket_urlpatterns = [
    path("ws/token/", TokenConsumer.as_asgi()),
    path("ws/rooms/<int:room_id>/", RoomConsumer.as_asgi()),
    path("ws/defaults/", DefaultsConsumer.as_asgi()),
]

application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
