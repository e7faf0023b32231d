"""Consumers of many shapes, whose AsyncAPI documents the tests build and validate."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    BaseAuthenticator,
    BaseEvent,
    BaseMessage,
    Credential,
    PingMessage,
    PongMessage,
    TokenAuthenticator,
    channel,
    event_handler,
    ws_handler,
)

# -- unions and lists -----------------------------------------------------------------------


class AddItem(BaseMessage):
    """Add an item to the cart."""

    action: Literal["add"] = "add"
    payload: str


class RemoveItem(BaseMessage):
    """Remove an item from the cart."""

    action: Literal["remove"] = "remove"
    payload: str


class CartUpdated(BaseMessage):
    """The cart changed."""

    action: Literal["cart_updated"] = "cart_updated"
    payload: list[str]


class CartRejected(BaseMessage):
    action: Literal["cart_rejected"] = "cart_rejected"
    payload: str


class Receipt(BaseMessage):
    action: Literal["receipt"] = "receipt"
    payload: int


class Checkout(BaseMessage):
    action: Literal["checkout"] = "checkout"
    payload: None = None


class CartConsumer(AsyncJsonWebsocketConsumer):
    """A shopping cart: one handler for two actions, replies of two kinds."""

    @ws_handler(summary="Change the cart", tags=["cart"])
    async def change(self, message: AddItem | RemoveItem) -> CartUpdated | CartRejected:
        """Adds or removes one item.

        The reply is the whole cart, or a rejection.
        """
        return CartUpdated(payload=[message.payload])

    @ws_handler
    async def checkout(self, message: Checkout) -> list[Receipt] | None:
        return [Receipt(payload=1)]


# -- nested models, enums, optional fields, tuples, discriminated payloads --------------------


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Point(BaseModel):
    x: float
    y: float = Field(default=0.0, description="Vertical position")


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    centre: Point
    radius: Annotated[float, Field(gt=0)]


class Polygon(BaseModel):
    kind: Literal["polygon"] = "polygon"
    corners: list[Point] = Field(min_length=3)


class Shape(BaseModel):
    colour: Colour
    label: str | None = None
    size: tuple[int, int]
    tags: dict[str, int] = Field(default_factory=dict)
    geometry: Circle | Polygon = Field(discriminator="kind")


class DrawMessage(BaseMessage):
    """Draw a shape."""

    action: Literal["draw"] = "draw"
    payload: Shape


class DrawnMessage(BaseMessage):
    action: Literal["drawn"] = "drawn"
    payload: Shape | None = None


class CanvasConsumer(AsyncJsonWebsocketConsumer):
    send_completion = True

    @ws_handler
    async def draw(self, message: DrawMessage) -> DrawnMessage:
        return DrawnMessage(payload=message.payload)


# -- recursion ------------------------------------------------------------------------------


class TreeNode(BaseModel):
    name: str
    children: list[TreeNode] = Field(default_factory=list)


class TreeMessage(BaseMessage):
    action: Literal["tree"] = "tree"
    payload: TreeNode


class TreeConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def echo_tree(self, message: TreeMessage) -> TreeMessage:
        return message


# -- path parameters, authentication, events, emits, @channel -------------------------------


class ApiKeyAuthenticator(BaseAuthenticator):
    credentials = (Credential("x-api-key", "header", "The project's API key"),)


class RoomJoined(BaseEvent):
    type: Literal["room_joined"] = "room_joined"
    user: str


class Joined(BaseMessage):
    """Someone joined."""

    action: Literal["joined"] = "joined"
    payload: str


class Announcement(BaseMessage):
    """Pushed by the server whenever an operator announces something."""

    action: Literal["announcement"] = "announcement"
    payload: str


class DemoTokens(TokenAuthenticator):
    async def verify_token(self, token: str) -> str | None:
        return token


@channel(name="room", description="One room of a building.", tags=["rooms"])
class RoomConsumer(AsyncJsonWebsocketConsumer):
    authenticator_class = DemoTokens
    emits = (Announcement,)

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @event_handler(summary="Presence")
    async def room_joined(self, event: RoomJoined) -> Joined:
        return Joined(payload=event.user)


class AdminConsumer(AsyncJsonWebsocketConsumer):
    authenticator_class = ApiKeyAuthenticator

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


# -- camelCase aliases ------------------------------------------------------------------------


class Profile(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    display_name: str
    last_seen_at: int | None = None


class UpdateProfile(BaseMessage):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    action: Literal["update_profile"] = "update_profile"
    payload: Profile


class ProfileConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def update(self, message: UpdateProfile) -> UpdateProfile:
        return message


# -- hostile documentation --------------------------------------------------------------------

XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


class EvilMessage(BaseMessage):
    action: Literal["evil"] = "evil"
    payload: str = Field(description=XSS, examples=[XSS])


EvilMessage.__doc__ = f"Says {XSS} in its docstring."


class EvilConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def evil(self, message: EvilMessage) -> EvilMessage:
        return message


EvilConsumer.__doc__ = f"A channel whose docstring is {XSS}"
