"""The Django Channels flavour of the consumer."""

from __future__ import annotations

from types import EllipsisType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.core import BaseMessage
from chanx.core._adapters import resolve_channel_layer
from chanx.core.layers import ChannelLayer
from chanx.core.types import Message, Receive, Scope, Send
from chanx.django._adapter import channels_layer
from chanx.django._auth import DRF_OPTIONS, DjangoAuthenticator, DRFOptions
from chanx.django._messages import AuthenticatedMessage, AuthenticatedPayload
from chanx.django._settings import chanx_settings

__all__ = ["AsyncJsonWebsocketConsumer"]

# Consumer options whose default comes from settings.CHANX when no class sets them.
_SETTING_OPTIONS = {
    "send_completion": "SEND_COMPLETION",
    "send_auth_error": "SEND_AUTH_ERROR",
    "reject_in_handshake": "REJECT_IN_HANDSHAKE",
}


class AsyncJsonWebsocketConsumer(DRFOptions, CoreConsumer):
    """A Chanx consumer for Django Channels.

    Mount it in a Channels ``URLRouter``: ``path("ws/chat/<int:room_id>/",
    ChatConsumer.as_asgi())``; URL kwargs arrive in ``self.path_params``. Layers come from
    ``CHANNEL_LAYERS`` (any Channels backend). ``send_completion``, ``send_auth_error`` and
    ``reject_in_handshake`` default to ``settings.CHANX``, read per connection.

    DRF-style authentication: set ``authentication_classes``, ``permission_classes`` and
    optionally ``queryset``/``lookup_field``/``lookup_url_kwarg`` on the consumer, or point
    ``authenticator_class`` at a `DjangoAuthenticator` subclass. The authenticated user is
    ``self.user``, the object checked for object permissions ``self.obj``.
    """

    _options_from_settings: ClassVar[frozenset[str]] = frozenset(_SETTING_OPTIONS)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        user_classes = [k for k in cls.__mro__ if k not in _BASES]
        cls._options_from_settings = frozenset(
            name for name in _SETTING_OPTIONS if not any(name in vars(k) for k in user_classes)
        )
        drf_options = [name for name in DRF_OPTIONS if name in vars(cls)]
        if drf_options and "authenticator_class" in vars(cls):
            raise TypeError(
                f"{cls.__qualname__} sets authenticator_class and {drf_options}; set these "
                "on the authenticator class, or drop authenticator_class"
            )
        if drf_options:
            base = cls.authenticator_class
            if base is None or not issubclass(base, DjangoAuthenticator):
                base = DjangoAuthenticator
            options = {name: getattr(cls, name) for name in DRF_OPTIONS}
            name = f"{cls.__name__}Authenticator"
            namespace = {"__module__": cls.__module__, "__qualname__": name}
            cls.authenticator_class = type(name, (base,), options | namespace)

    def __init__(self, **initkwargs: Any) -> None:
        super().__init__(**initkwargs)
        from_settings = self._options_from_settings.difference(initkwargs)
        if from_settings:
            current = chanx_settings()
            for name in from_settings:
                setattr(self, name, getattr(current, _SETTING_OPTIONS[name]))

    @classmethod
    def get_layer(
        cls, scope: Scope | None = None, *, alias: str | EllipsisType | None = ...
    ) -> ChannelLayer | None:
        """The layer ``CHANNEL_LAYERS`` names ``alias``, else Chanx's registry.

        ``alias`` defaults to ``channel_layer_alias``.
        """
        name = cls.channel_layer_alias if alias is ... else alias
        if name is None:
            return None
        layer = channels_layer(name)
        return layer if layer is not None else resolve_channel_layer(name, scope)

    def is_same_origin(self, origin: str) -> bool:
        """The Host header's origin, or a host in ``ALLOWED_HOSTS``.

        The same rule as Channels' ``AllowedHostsOriginValidator`` (in DEBUG with empty
        ``ALLOWED_HOSTS``: localhost, 127.0.0.1 and [::1]).
        """
        if super().is_same_origin(origin):
            return True
        from django.conf import settings
        from django.http.request import validate_host

        host = urlsplit(origin).hostname
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        return host is not None and validate_host(host, allowed)

    @property
    def obj(self) -> Any:
        """The object a `DjangoAuthenticator` checked object permissions on (or None)."""
        return getattr(self.auth_result, "obj", None)

    def get_authentication_message(self) -> BaseMessage | None:
        """The frame sent after accept when ``SEND_AUTHENTICATION_MESSAGE`` is on."""
        user = self.user
        if user is None or not getattr(user, "is_authenticated", True):
            return AuthenticatedMessage(payload=AuthenticatedPayload())
        get_username = getattr(user, "get_username", None)
        return AuthenticatedMessage(
            payload=AuthenticatedPayload(
                user_id=getattr(user, "pk", None),
                username=get_username() if callable(get_username) else None,
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection (through Channels' routing and middleware)."""
        if self.authenticator_class is not None and chanx_settings().SEND_AUTHENTICATION_MESSAGE:
            send = self._announcing(send)
        await super().__call__(scope, receive, send)

    def _announcing(self, send: Send) -> Send:
        """Wrap ``send`` to follow a successful accept with the authentication frame."""

        async def send_then_announce(message: Message) -> None:
            await send(message)
            if message["type"] != "websocket.accept":
                return
            # Only until accept: afterwards frames go straight to the server's send.
            self._send = send
            if self.auth_result is not None and self.auth_result.ok:
                frame = self.get_authentication_message()
                if frame is not None:
                    await send(
                        {"type": "websocket.send", "text": frame.model_dump_json(by_alias=True)}
                    )

        return send_then_announce


# every class of the base consumer (core mixins included) is not a user class
_BASES = frozenset(AsyncJsonWebsocketConsumer.__mro__)
