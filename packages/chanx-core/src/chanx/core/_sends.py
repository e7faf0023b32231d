"""`LayerSends`: a consumer's channel layer: which one, a connection's groups, and sends.

Views, Celery tasks and scripts reach connected clients through the classmethods; a
connection joins, leaves and broadcasts to groups through the methods. The class is
complete on its own (its options, its layer, its state); the consumer inherits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import EllipsisType
from typing import ClassVar

from asgiref.sync import async_to_sync

from chanx.core._adapters import FrameworkAdapter, adapter_for_scope
from chanx.core._groups import event_data, frame_event, layer_for, targets
from chanx.core._messages import BaseEvent, BaseMessage
from chanx.core.layers import ChannelLayer, require_valid_group_name
from chanx.core.types import Scope

__all__ = ["LayerSends"]


class LayerSends:
    """Which layer a consumer class uses, its connections' groups, and typed sends.

    Class options:
        channel_layer_alias: Layer alias for groups and events (None: no layer).
        groups: Groups joined before accept (override ``get_groups`` for dynamic ones);
            also where `broadcast_event` sends by default.
        framework: The adapter of the framework this class is written for (set by
            chanx-fastapi's and chanx-django's consumer classes). It resolves the layer
            alias, here and for every connection. None: Chanx's registry, or for a
            connection, the framework that routed it.
    """

    channel_layer_alias: ClassVar[str | None] = "default"
    groups: ClassVar[Sequence[str]] = ()
    framework: ClassVar[FrameworkAdapter | None] = None

    #: This connection's layer and channel (None until it joined, or without a layer).
    channel_layer: ChannelLayer | None = None
    channel_name: str | None = None
    _joined: dict[str, None]  # the groups this connection is in (set per connection)

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

    @classmethod
    def _layer_or_error(cls) -> ChannelLayer:
        layer = cls.get_layer()
        if layer is None:
            raise RuntimeError(
                f"{cls.__qualname__} has no channel layer (channel_layer_alias is None)"
            )
        return layer

    @classmethod
    async def broadcast_to(cls, message: BaseMessage, groups: Sequence[str] | str) -> None:
        """Send ``message`` to the clients of ``groups`` from anywhere (views, tasks).

        Like ``broadcast_message``, the message is encoded once and forwarded as is.
        """
        names = targets(groups, ())
        layer = cls._layer_or_error()
        event = frame_event(message)
        for group in names:
            await layer.group_send(group, event)

    @classmethod
    def broadcast_to_sync(cls, message: BaseMessage, groups: Sequence[str] | str) -> None:
        """`broadcast_to` for sync code."""
        async_to_sync(cls.broadcast_to)(message, groups)

    @classmethod
    async def broadcast_event(
        cls, event: BaseEvent, groups: Sequence[str] | str | None = None
    ) -> None:
        """Send ``event`` to ``groups`` (default: the class's ``groups``) through the layer.

        An empty list names no group and is a `ValueError`.
        """
        names = targets(groups, cls.groups)
        layer = cls._layer_or_error()
        data = event_data(event)
        for group in names:
            await layer.group_send(group, data)

    @classmethod
    async def send_event(cls, event: BaseEvent, channel_name: str) -> None:
        """Send ``event`` to the one connection listening on ``channel_name``."""
        await cls._layer_or_error().send(channel_name, event_data(event))

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

    # -- a connection's groups --------------------------------------------------------

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
        defaults to the groups this connection joined; an empty list is a `ValueError`.
        """
        layer, name = self._require_layer()
        names = targets(groups, self._joined)
        event = frame_event(message, name if exclude_current else None)
        for group in names:
            await layer.group_send(group, event)
