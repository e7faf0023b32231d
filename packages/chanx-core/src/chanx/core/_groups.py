"""Groups, broadcasts and typed events through the channel layer, as a consumer mixin."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from pydantic import ValidationError

from chanx.core._adapters import resolve_channel_layer
from chanx.core._messages import BaseEvent, BaseMessage, encode_message
from chanx.core._routing import RouteTable
from chanx.core.layers import ChannelLayer, require_valid_group_name
from chanx.core.types import Scope

__all__ = ["SEND_TEXT_EVENT", "LayerMessaging"]

logger = logging.getLogger("chanx.consumer")

#: Layer event carrying a ready JSON frame (``text``) to forward without re-encoding.
SEND_TEXT_EVENT = "chanx.send"


class LayerMessaging:
    """The channel-layer half of a consumer: groups joined, broadcasts and typed events."""

    channel_layer_alias: ClassVar[str | None] = "default"
    groups: ClassVar[Sequence[str]] = ()

    scope: Scope
    channel_layer: ChannelLayer | None
    channel_name: str | None
    _joined: dict[str, None]
    _event_routes: ClassVar[RouteTable]
    _validate_event: ClassVar[staticmethod[[Any], Any]]

    async def _send_text(self, text: str) -> None:
        raise NotImplementedError

    async def _send_result(self, result: Any, ref: str | int | None = None) -> None:
        raise NotImplementedError

    @classmethod
    def get_layer(
        cls, scope: Scope | None = None, *, alias: str | EllipsisType | None = ...
    ) -> ChannelLayer | None:
        """The channel layer named by ``alias`` (default: ``channel_layer_alias``).

        None when the alias is None. With a connection ``scope``, the framework that
        routed it resolves the alias (Django through ``CHANNEL_LAYERS``).
        """
        name = cls.channel_layer_alias if alias is ... else alias
        return None if name is None else resolve_channel_layer(name, scope)

    async def get_groups(self) -> Sequence[str]:
        """Groups to join before accept; defaults to the ``groups`` class attribute."""
        return list(self.groups)

    # -- groups and broadcasting -------------------------------------------------------

    def _require_layer(self) -> tuple[ChannelLayer, str]:
        if self.channel_layer is None or self.channel_name is None:
            raise RuntimeError(
                f"{type(self).__qualname__} has no channel layer (channel_layer_alias is None)"
            )
        return self.channel_layer, self.channel_name

    async def join_group(self, group: str) -> None:
        """Add this connection to ``group``.

        Raises:
            TypeError: ``group`` is not 1 to 99 ASCII letters, digits, ``-``, ``_`` or ``.``
                (checked here too, whatever the layer checks).
        """
        layer, name = self._require_layer()
        await layer.group_add(require_valid_group_name(group), name)
        self._joined[group] = None

    async def leave_group(self, group: str) -> None:
        """Remove this connection from ``group``."""
        layer, name = self._require_layer()
        await layer.group_discard(group, name)
        self._joined.pop(group, None)

    @property
    def joined_groups(self) -> tuple[str, ...]:
        """Groups this connection is in."""
        return tuple(self._joined)

    async def broadcast_message(
        self,
        message: BaseMessage,
        groups: Sequence[str] | str | None = None,
        *,
        exclude_current: bool = False,
    ) -> None:
        """Send ``message`` to the clients of every connection in ``groups``.

        The message is encoded once; receivers forward the text as is. ``groups``
        defaults to the groups this connection joined.
        """
        layer, name = self._require_layer()
        targets = [groups] if isinstance(groups, str) else (groups or list(self._joined))
        event: dict[str, Any] = {
            "type": SEND_TEXT_EVENT,
            "text": encode_message(message),
        }
        if exclude_current:
            event["exclude"] = name
        for group in targets:
            await layer.group_send(group, event)

    @classmethod
    async def broadcast_to(cls, message: BaseMessage, groups: Sequence[str] | str) -> None:
        """Send ``message`` to the clients of ``groups`` from anywhere (views, tasks).

        Like `broadcast_message`, the message is encoded once and forwarded as is.
        """
        layer = cls._layer_or_error()
        event = {"type": SEND_TEXT_EVENT, "text": encode_message(message)}
        for group in [groups] if isinstance(groups, str) else groups:
            await layer.group_send(group, event)

    @classmethod
    def broadcast_to_sync(cls, message: BaseMessage, groups: Sequence[str] | str) -> None:
        """`broadcast_to` for sync code."""
        async_to_sync(cls.broadcast_to)(message, groups)

    @classmethod
    def _layer_or_error(cls) -> ChannelLayer:
        layer = cls.get_layer()
        if layer is None:
            raise RuntimeError(
                f"{cls.__qualname__} has no channel layer (channel_layer_alias is None)"
            )
        return layer

    @classmethod
    async def broadcast_event(
        cls, event: BaseEvent, groups: Sequence[str] | str | None = None
    ) -> None:
        """Send ``event`` to ``groups`` (default: the class's ``groups``) through the layer."""
        layer = cls._layer_or_error()
        targets = [groups] if isinstance(groups, str) else (groups or list(cls.groups))
        data = event.model_dump(mode="json", by_alias=True)
        for group in targets:
            await layer.group_send(group, data)

    @classmethod
    async def send_event(cls, event: BaseEvent, channel_name: str) -> None:
        """Send ``event`` to the one connection listening on ``channel_name``."""
        await cls._layer_or_error().send(channel_name, event.model_dump(mode="json", by_alias=True))

    @classmethod
    def broadcast_event_sync(
        cls, event: BaseEvent, groups: Sequence[str] | str | None = None
    ) -> None:
        """`broadcast_event` for sync code: views, Celery tasks, scripts."""
        async_to_sync(cls.broadcast_event)(event, groups)

    @classmethod
    def send_event_sync(cls, event: BaseEvent, channel_name: str) -> None:
        """`send_event` for sync code: views, Celery tasks, scripts."""
        async_to_sync(cls.send_event)(event, channel_name)

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == SEND_TEXT_EVENT:
            if event.get("exclude") != self.channel_name:
                await self._send_text(event["text"])
            return
        routes = self._event_routes
        handler = routes.by_key.get(kind) if isinstance(kind, str) else None
        if handler is None:
            logger.warning("%s dropped an event of unknown type %r", type(self).__qualname__, kind)
            return
        try:
            model = self._validate_event(event)
        except ValidationError as exc:
            logger.warning("%s dropped an invalid %r event: %s", type(self).__qualname__, kind, exc)
            return
        try:
            result = await handler.func(self, model)
            if result is not None:
                await self._send_result(result)
        except Exception:
            logger.exception("event handler %s failed", handler.qualname)
