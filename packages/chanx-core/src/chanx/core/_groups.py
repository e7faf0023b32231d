"""Groups, broadcasts and typed events through the channel layer, as a consumer mixin."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from types import EllipsisType
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from pydantic import ValidationError

from chanx.core._adapters import FrameworkAdapter, adapter_for_scope
from chanx.core._messages import BaseEvent, BaseMessage, encode_message
from chanx.core._routing import ConsumerRoutes
from chanx.core.layers import ChannelLayer, get_channel_layer
from chanx.core.types import Scope

__all__ = ["SEND_TEXT_EVENT", "LayerMessaging", "layer_for", "numbered"]

logger = logging.getLogger("chanx.consumer")

#: Layer event carrying a ready JSON frame (``text``) to forward without re-encoding.
SEND_TEXT_EVENT = "chanx.send"


def layer_for(adapter: FrameworkAdapter | None, alias: str) -> ChannelLayer:
    """The layer ``adapter``'s framework names ``alias``, else Chanx's registry's."""
    layer = adapter.get_channel_layer(alias) if adapter is not None else None
    return layer if layer is not None else get_channel_layer(alias)


def _targets(groups: Sequence[str] | str | None, default: Iterable[str]) -> list[str]:
    """The groups a broadcast goes to: ``groups``, or ``default`` when None."""
    if groups is None:
        return list(default)
    if isinstance(groups, str):
        return [groups]
    if not groups:
        raise ValueError("groups=[] names no group; pass None for the default groups, or name them")
    return list(groups)


def numbered(text: str, seq: int) -> str:
    """``text`` (a JSON object) with ``"seq": seq`` as its first member."""
    return f'{{"seq":{seq},{text[1:]}' if text != "{}" else f'{{"seq":{seq}}}'


class LayerMessaging:
    """The channel-layer half of a consumer: groups joined, broadcasts and typed events."""

    channel_layer_alias: ClassVar[str | None] = "default"
    groups: ClassVar[Sequence[str]] = ()
    framework: ClassVar[FrameworkAdapter | None] = None
    send_seq: ClassVar[bool] = False

    #: Pushes numbered on this connection so far (the last ``seq`` sent).
    pushes_sent: int = 0

    scope: Scope
    channel_layer: ChannelLayer | None
    channel_name: str | None
    _joined: dict[str, None]
    _chanx_routes: ClassVar[ConsumerRoutes]
    _validate_event: ClassVar[staticmethod[[Any], Any]]

    async def _send_text(self, text: str) -> None:
        raise NotImplementedError

    async def _send_result(
        self, result: Any, ref: str | int | None = None, *, push: bool = False
    ) -> None:
        raise NotImplementedError

    async def _push_text(self, text: str) -> None:
        """Send a push (a frame a layer event caused), numbered when ``send_seq`` is on."""
        if self.send_seq:
            self.pushes_sent += 1
            text = numbered(text, self.pushes_sent)
        await self._send_text(text)

    @classmethod
    def get_layer(
        cls, scope: Scope | None = None, *, alias: str | EllipsisType | None = ...
    ) -> ChannelLayer | None:
        """The channel layer named by ``alias`` (default: ``channel_layer_alias``).

        None when the alias is None. The class's ``framework`` adapter resolves the alias
        (Django through ``CHANNEL_LAYERS``); a consumer written against ``chanx.core`` has
        none, so its alias names a layer of Chanx's registry, unless ``scope`` is given:
        then the adapter whose framework routed that connection decides.
        """
        name = cls.channel_layer_alias if alias is ... else alias
        if name is None:
            return None
        adapter = cls.framework
        if adapter is None and scope is not None:
            adapter = adapter_for_scope(scope)
        return layer_for(adapter, name)

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

    async def _join_initial_groups(self, adapter: FrameworkAdapter | None) -> None:
        # the instance's alias: as_asgi(channel_layer_alias=...) may have overridden it
        alias = self.channel_layer_alias
        if alias is None:
            return
        layer = layer_for(adapter, alias)
        self.channel_layer = layer
        self.channel_name = await layer.new_channel()
        for group in await self.get_groups():
            await self.join_group(group)

    async def join_group(self, group: str) -> None:
        """Add this connection to ``group``."""
        layer, name = self._require_layer()
        await layer.group_add(group, name)
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
        defaults to the groups this connection joined; an empty list is a `ValueError`.
        """
        layer, name = self._require_layer()
        targets = _targets(groups, self._joined)
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
        targets = _targets(groups, ())
        layer = cls._layer_or_error()
        event = {"type": SEND_TEXT_EVENT, "text": encode_message(message)}
        for group in targets:
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
        targets = _targets(groups, cls.groups)
        layer = cls._layer_or_error()
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
                await self._push_text(event["text"])
            return
        routes = self._chanx_routes.event
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
                await self._send_result(result, push=True)
        except Exception:
            logger.exception("event handler %s failed", handler.qualname)
