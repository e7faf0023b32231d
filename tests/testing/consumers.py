"""A consumer with varied message types, for the strategy and spy tests."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    BaseEvent,
    BaseMessage,
    PingMessage,
    PongMessage,
    event_handler,
    ws_handler,
)


class Mood(Enum):
    HAPPY = "happy"
    GRUMPY = "grumpy"


class Author(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=12)]
    karma: Annotated[int, Field(ge=0, lt=1000)] = 0


class PostPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(pattern=r"^[A-Z][a-z]{0,9}$")]
    author: Author
    tags: Annotated[list[str], Field(max_length=3)] = []
    score: Annotated[float, Field(gt=-1.0, le=1.0)] | None = None
    mood: Mood = Mood.HAPPY
    counts: dict[str, int] = {}
    point: tuple[int, int] | None = None


class PostMessage(BaseMessage):
    action: Literal["post"] = "post"
    payload: PostPayload


class PostReply(BaseMessage):
    action: Literal["post_reply"] = "post_reply"
    payload: PostPayload


class VoteMessage(BaseMessage):
    model_config = ConfigDict(extra="forbid")

    action: Literal["vote", "unvote"]
    payload: Annotated[int, Field(ge=1, le=5)]


class VoteCount(BaseMessage):
    action: Literal["vote_count"] = "vote_count"
    payload: int


class PostNotice(BaseMessage):
    action: Literal["post_notice"] = "post_notice"
    payload: str


class ModeratedEvent(BaseEvent):
    type: Literal["moderated"] = "moderated"
    title: str
    removed: bool = False


class ModerationNotice(BaseMessage):
    action: Literal["moderation"] = "moderation"
    payload: str


class ForumConsumer(AsyncJsonWebsocketConsumer):
    """Posts are echoed back and announced to the forum group; votes are counted."""

    groups = ["forum"]
    send_completion = True

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_post(self, message: PostMessage) -> PostReply:
        await self.broadcast_message(PostNotice(payload=message.payload.title))
        return PostReply(payload=message.payload)

    @ws_handler
    async def handle_vote(self, message: VoteMessage) -> VoteCount:
        sign = 1 if message.action == "vote" else -1
        return VoteCount(payload=sign * message.payload)

    @event_handler
    async def moderated(self, event: ModeratedEvent) -> ModerationNotice:
        return ModerationNotice(payload=event.title)
