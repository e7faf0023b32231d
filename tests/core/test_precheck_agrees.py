"""The pre-check accepts every frame the decoder accepts (floats aside), and the screen for
non-finite floats misses none."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import SchemaValidator, core_schema
from typing_extensions import TypedDict

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, ws_handler
from chanx.core._hardening import may_be_non_finite
from chanx.testing.strategies import frames
from tests.asyncapi import shapes
from tests.testing.consumers import ForumConsumer


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        self.start, self.end = sorted((self.start, self.end))


class Meta(TypedDict, total=False):
    source: str
    weight: float


class Tags(RootModel[list[str]]):
    pass


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    good: bool = True


class Node(BaseModel):
    label: str
    children: list[Node] = []


class Rich(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)

    display_name: str
    colour: Colour = Colour.RED
    span: Span | None = None
    meta: Meta = Field(default_factory=lambda: Meta(source="default"))
    tags: Tags = Tags([])
    pet: Annotated[Cat | Dog, Field(discriminator="kind")] | None = None
    tree: Node | None = None
    pair: tuple[int, str] | None = None
    scores: dict[str, Annotated[int, Field(ge=0)]] = {}
    csv: list[int] = []

    @field_validator("csv", mode="before")
    @classmethod
    def split(cls, value: Any) -> Any:
        return [int(part) for part in value.split(",")] if isinstance(value, str) else value

    @model_validator(mode="after")
    def named(self) -> Rich:
        if not self.display_name:
            raise ValueError("a name is required")
        return self


class RichMessage(BaseMessage):
    action: Literal["rich"] = "rich"
    payload: Rich
    padding: str = ""


class RichConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle(self, message: RichMessage) -> None:
        return None


CONSUMERS = [
    RichConsumer,
    ForumConsumer,
    shapes.CartConsumer,
    shapes.CanvasConsumer,
    shapes.TreeConsumer,
    shapes.ProfileConsumer,
]


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_precheck_accepts_what_the_decoder_accepts(
    consumer: type[AsyncJsonWebsocketConsumer], data: st.DataObject
) -> None:
    frame = data.draw(frames(consumer))
    consumer._validate_frame(frame)
    consumer._precheck_frame(frame)


RICH_FRAMES = [
    {"displayName": "a", "csv": "1,2,3", "span": {"start": 1, "end": 2}},
    {"display_name": "a", "meta": {"source": "x", "weight": 0.5}, "tags": ["x", "y"]},
    {"displayName": "a", "pet": {"kind": "dog"}, "pair": [1, "x"], "scores": {"a": 1}},
    {"displayName": "a", "tree": {"label": "r", "children": [{"label": "c"}]}},
]


@pytest.mark.parametrize("payload", RICH_FRAMES)
def test_rich_models_pass_the_precheck(payload: dict[str, Any]) -> None:
    frame = RichMessage.model_validate({"payload": payload, "padding": "x" * 5000})
    text = frame.model_dump_json(by_alias=True)
    assert len(text) > 4096
    RichConsumer._validate_frame(text)
    RichConsumer._precheck_frame(text)


_float_anything = SchemaValidator(core_schema.float_schema(allow_inf_nan=True))
json_numbers = st.from_regex(
    r"-?(0|[1-9][0-9]{0,320})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?", fullmatch=True
)
spelled = st.sampled_from(["inf", "infinity", "nan", "Inf", "NaN", "INFINITY", "+inf", "-nan"])
# A float field also takes a string in lax mode: "1e999", " inf ", "NaN" ...
json_strings = st.one_of(json_numbers, spelled, spelled.map(" {} ".format)).map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(json_numbers, json_strings))
def test_the_screen_sees_every_text_that_decodes_to_a_non_finite_float(text: str) -> None:
    try:
        value = _float_anything.validate_json(text)
    except ValueError:
        return
    if not math.isfinite(value):
        assert may_be_non_finite(text)
