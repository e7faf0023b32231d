"""What travels in the demo; the same wire protocol as the FastAPI demo (examples/chat)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chanx.core import BaseEvent, BaseMessage

# -- client → server ----------------------------------------------------------------------


class ChatPayload(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class ChatMessage(BaseMessage):
    """A chat line for everyone in the room."""

    action: Literal["chat"] = "chat"
    payload: ChatPayload


# -- server → client ----------------------------------------------------------------------


class ChatLine(BaseModel):
    room: str
    username: str
    text: str


class ChatNotification(BaseMessage):
    """A chat line someone in the room sent (the sender receives it too)."""

    action: Literal["chat_message"] = "chat_message"
    payload: ChatLine


class Presence(BaseModel):
    room: str
    username: str
    status: Literal["joined", "left"]


class PresenceMessage(BaseMessage):
    """Someone joined or left the room."""

    action: Literal["presence"] = "presence"
    payload: Presence


class Notification(BaseModel):
    text: str
    sender: str | None = None


class NotificationMessage(BaseMessage):
    """A private notification sent through ``POST /api/notify/<user>/``."""

    action: Literal["notification"] = "notification"
    payload: Notification


# -- channel-layer events (server → server) -----------------------------------------------


class UserJoinedEvent(BaseEvent):
    type: Literal["user_joined"] = "user_joined"
    room: str
    username: str


class UserLeftEvent(BaseEvent):
    type: Literal["user_left"] = "user_left"
    room: str
    username: str


class NotifyEvent(BaseEvent):
    """Sent to ``user_<name>``; the notify view sends it as a raw dict."""

    type: Literal["notify"] = "notify"
    text: str
    sender: str | None = None
