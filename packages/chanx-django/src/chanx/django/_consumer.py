"""The Django Channels flavour of the consumer."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from chanx.core import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.core import BaseMessage, FrameworkAdapter
from chanx.django._adapter import DjangoAdapter
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

    framework: ClassVar[FrameworkAdapter | None] = DjangoAdapter()
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

    async def on_accept(self) -> None:
        """Send the authentication frame when ``SEND_AUTHENTICATION_MESSAGE`` is on."""
        await super().on_accept()
        result = self.auth_result
        if self.authenticator_class is None or result is None or not result.ok:
            return
        if chanx_settings().SEND_AUTHENTICATION_MESSAGE:
            frame = self.get_authentication_message()
            if frame is not None:
                await self.send_message(frame)


# every class of the base consumer (core mixins included) is not a user class
_BASES = frozenset(AsyncJsonWebsocketConsumer.__mro__)
