"""Message models shared by the core tests (module level, as users write them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chanx.core import BaseEvent, BaseMessage


class ChatPayload(BaseModel):
    text: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatNotification(BaseMessage):
    action: Literal["chat_notification"] = "chat_notification"
    payload: ChatPayload


class EchoMessage(BaseMessage):
    action: Literal["echo"] = "echo"
    payload: dict[str, int]


class EchoReply(BaseMessage):
    action: Literal["echo_reply"] = "echo_reply"
    payload: dict[str, int]


class FailMessage(BaseMessage):
    action: Literal["fail"] = "fail"


class SlowMessage(BaseMessage):
    action: Literal["slow"] = "slow"


class UserJoinedEvent(BaseEvent):
    type: Literal["user_joined"] = "user_joined"
    username: str


class UserJoinedNotice(BaseMessage):
    action: Literal["user_joined"] = "user_joined"
    payload: str
