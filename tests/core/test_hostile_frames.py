"""Frames an attacker would send: answers stay small and cheap, and nothing crashes a socket."""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, PingMessage, PongMessage, ws_handler
from chanx.core._errors import MAX_ECHOED_REF
from chanx.testing import WebsocketCommunicator

pytestmark = pytest.mark.usefixtures("memory_layer")


class TagsPayload(BaseModel):
    tags: list[str]


class TagMessage(BaseMessage):
    action: Literal["tag"] = "tag"
    payload: TagsPayload


class Reading(BaseModel):
    value: float
    history: list[float] = []


class MeasureMessage(BaseMessage):
    action: Literal["measure"] = "measure"
    payload: Reading


class LooseReading(BaseModel):
    model_config = ConfigDict(allow_inf_nan=True)

    value: float


class LooseMeasureMessage(BaseMessage):
    action: Literal["loose"] = "loose"
    payload: LooseReading


class MeasuredReply(BaseMessage):
    action: Literal["measured"] = "measured"
    payload: str


class TagConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_tag(self, message: TagMessage) -> None:
        return None

    @ws_handler
    async def handle_measure(self, message: MeasureMessage) -> MeasuredReply:
        return MeasuredReply(payload=repr(message.payload.value))

    @ws_handler
    async def handle_loose(self, message: LooseMeasureMessage) -> MeasuredReply:
        return MeasuredReply(payload=repr(message.payload.value))


class NoHandlers(AsyncJsonWebsocketConsumer):
    pass


class OneHandler(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


def huge_wrong_list(items: int = 500_000) -> str:
    return '{"action":"tag","ref":"big","payload":{"tags":[' + ",".join("1" * items) + "]}}"


# -- error-frame amplification ---------------------------------------------------------


async def test_a_huge_wrong_list_gets_a_small_error_frame() -> None:
    frame = huge_wrong_list()
    assert len(frame) < (TagConsumer.max_frame_bytes or 0)  # default limits let it through
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws", timeout=30) as ws:
        await ws.send_text(frame)
        reply = await ws.receive_text()
    assert len(reply) < 2048
    error = json.loads(reply)
    assert error["ref"] == "big"
    payload = error["payload"]
    assert payload["code"] == "validation_error"
    assert 1 <= len(payload["errors"]) <= 10
    assert payload["error_count"] >= len(payload["errors"])
    assert payload["errors"][0] == {
        "loc": ["payload", "tags", 0],
        "msg": "Input should be a valid string",
        "type": "string_type",
    }


@pytest.mark.parametrize(
    ("ref", "echoed"),
    [
        ("r" * MAX_ECHOED_REF, True),
        ("r" * (MAX_ECHOED_REF + 1), False),
        ("r" * 900_000, False),
        (10**MAX_ECHOED_REF - 1, True),
        (-(10**MAX_ECHOED_REF) + 1, True),
        (10**MAX_ECHOED_REF, False),
    ],
)
@pytest.mark.parametrize("action", ["nope", "tag"])  # unknown action, validation error
async def test_an_error_frame_echoes_only_a_short_ref(
    ref: str | int, echoed: bool, action: str
) -> None:
    frame = json.dumps({"action": action, "ref": ref, "payload": {"tags": [1]}})
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws", timeout=30) as ws:
        await ws.send_text(frame)
        error = await ws.receive_json()
    assert error["action"] == "error"
    assert ("ref" in error) is echoed
    if echoed:
        assert error["ref"] == ref
    assert len(json.dumps(error)) < 1024


@pytest.mark.parametrize("ref", [True, False, 2.0, 1.5, None, [1], {"a": 1}])
async def test_a_ref_that_is_neither_a_string_nor_an_integer_is_refused(ref: object) -> None:
    frame = json.dumps({"action": "ping", "ref": ref})
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws") as ws:
        await ws.send_text(frame)
        reply = await ws.receive_json()
        if ref is None:  # null is "no ref"
            assert reply == {"action": "pong", "payload": None}
            return
        assert reply["action"] == "error"
        assert reply["payload"]["code"] == "validation_error"
        assert "ref" not in reply
        assert {tuple(error["loc"])[:1] for error in reply["payload"]["errors"]} == {("ref",)}


async def test_a_bystander_keeps_getting_pongs_during_an_amplification_attack() -> None:
    frame = huge_wrong_list()
    app = TagConsumer.as_asgi()
    async with (
        WebsocketCommunicator(app, "/ws", timeout=30) as attacker,
        WebsocketCommunicator(app, "/ws", timeout=10) as bystander,
    ):
        for _ in range(4):
            await attacker.send_text(frame)
        for _ in range(4):
            await bystander.send_json({"action": "ping"})
            assert await bystander.receive_json() == {"action": "pong", "payload": None}
        answers = [await attacker.receive_text() for _ in range(4)]
    assert all(len(answer) < 2048 for answer in answers)


async def test_many_errors_are_capped_and_counted() -> None:
    # A nested model's items each fail twice: what is listed stops at ten.
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "measure", "payload": {"value": "x", "history": ["a"]}})
        error = await ws.receive_json()
    assert error["payload"]["error_count"] == len(error["payload"]["errors"]) == 2


async def test_a_long_key_in_an_error_location_is_clipped() -> None:
    class Scores(BaseMessage):
        action: Literal["scores"] = "scores"
        payload: dict[str, int]

    class ScoreConsumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def handle(self, message: Scores) -> None:
            return None

    key = "k" * 500_000
    async with WebsocketCommunicator(ScoreConsumer.as_asgi(), "/ws", timeout=30) as ws:
        await ws.send_json({"action": "scores", "payload": {key: "not a number"}})
        reply = await ws.receive_text()
    assert len(reply) < 2048
    loc = json.loads(reply)["payload"]["errors"][0]["loc"]
    assert loc[0] == "payload"
    assert loc[1] == "k" * 63 + "…"


# -- placeholder actions of small consumers -------------------------------------------


async def test_a_consumer_without_handlers_says_so() -> None:
    async with WebsocketCommunicator(NoHandlers.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "ping"})
        detail = (await ws.receive_json())["payload"]["detail"]
        assert detail == 'unknown action: "ping"; this endpoint has no action handlers'
        await ws.send_json({"payload": 1})
        detail = (await ws.receive_json())["payload"]["detail"]
        assert detail == 'frame has no "action"; this endpoint has no action handlers'


@pytest.mark.parametrize("consumer", [NoHandlers, OneHandler])
@pytest.mark.parametrize("action", ["\x00chanx-unused-0", "\x00chanx-unused-1"])
async def test_the_decoders_placeholder_actions_are_unknown_actions(
    consumer: type[AsyncJsonWebsocketConsumer], action: str
) -> None:
    async with WebsocketCommunicator(consumer.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": action, "ref": 1})
        error = await ws.receive_json()
        assert error["action"] == "error"
        assert error["ref"] == 1
        assert error["payload"]["code"] == "unknown_action"
        await ws.send_json({"action": action})
        assert (await ws.receive_json())["payload"]["code"] == "unknown_action"
        await ws.receive_nothing()


# -- non-finite floats -----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        '{"value": 1e999}',
        '{"value": -1e999}',
        '{"value": NaN}',
        '{"value": Infinity}',
        '{"value": "nan"}',
        '{"value": "inf"}',
        '{"value": 1.0, "history": [2.0, 1e999]}',
    ],
)
async def test_non_finite_floats_are_refused(payload: str) -> None:
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws") as ws:
        await ws.send_text('{"action": "measure", "payload": ' + payload + "}")
        error = await ws.receive_json()
        assert error["action"] == "error", error
        assert error["payload"]["code"] == "validation_error"
        assert error["payload"]["errors"][0]["type"] == "finite_number"
        await ws.send_json({"action": "measure", "payload": {"value": 1.5}})
        assert (await ws.receive_json())["payload"] == "1.5"


async def test_a_model_can_allow_non_finite_floats() -> None:
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws") as ws:
        await ws.send_text('{"action": "loose", "payload": {"value": 1e999}}')
        assert (await ws.receive_json())["payload"] == "inf"


class Direct(BaseMessage):
    action: Literal["direct"] = "direct"
    value: float


class LooseDirect(Direct):
    model_config = ConfigDict(allow_inf_nan=True)


def test_a_message_built_in_python_refuses_non_finite_floats_too() -> None:
    with pytest.raises(ValueError, match="finite number"):
        Direct(value=math.inf)
    assert math.isnan(LooseDirect(value=math.nan).value)


# -- the pre-check agrees with the decoder ---------------------------------------------


calls: list[str] = []


class Note(BaseModel):
    model_config = ConfigDict(validate_by_name=True)

    text: str = Field(alias="body")
    words: list[str] = []

    @field_validator("words", mode="before")
    @classmethod
    def split(cls, value: object) -> object:
        calls.append("split")
        return value.split() if isinstance(value, str) else value


class NoteMessage(BaseMessage):
    action: Literal["note"] = "note"
    payload: Note
    weight: float = 1.0


class NoteConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_note(self, message: NoteMessage) -> MeasuredReply:
        return MeasuredReply(payload=f"{len(message.payload.words)} {message.weight}")


@pytest.mark.parametrize("name", ["body", "text"])
async def test_a_large_valid_frame_is_decoded_as_before(name: str) -> None:
    calls.clear()
    words = " ".join(["info"] * 2000)  # longer than the pre-check's threshold
    frame = {"action": "note", "payload": {name: "hi", "words": words}, "weight": 2}
    async with WebsocketCommunicator(NoteConsumer.as_asgi(), "/ws") as ws:
        await ws.send_json(frame)
        assert (await ws.receive_json())["payload"] == "2000 2.0"
    assert calls == ["split"]  # the pre-check runs no user code


@pytest.mark.parametrize(
    "weight",
    [
        '"\\u0069nf"',
        '"-Infinity"',
        "1E+400",
        "1" + "0" * 400,
        '"\\u004EaN"',
        "1" + "0" * 250 + "e99",
        '" 18e307 "',
    ],
)
async def test_disguised_non_finite_floats_are_refused(weight: str) -> None:
    async with WebsocketCommunicator(NoteConsumer.as_asgi(), "/ws") as ws:
        await ws.send_text('{"action":"note","payload":{"body":"x"},"weight":' + weight + "}")
        error = await ws.receive_json()
    assert error["payload"]["code"] == "validation_error"
    assert error["payload"]["errors"][0]["loc"] == ["weight"]


async def test_text_that_only_looks_non_finite_is_accepted() -> None:
    async with WebsocketCommunicator(NoteConsumer.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "note", "payload": {"body": "infinite nan"}, "weight": 1e300})
        assert (await ws.receive_json())["payload"] == "0 1e+300"


def upper(code: str) -> str:
    if not code.isupper():
        raise ValueError("expected an upper-case code")
    return code


def explode(code: str) -> str:
    raise ZeroDivisionError


class Checked(BaseModel):
    codes: list[Annotated[str, AfterValidator(upper)]] = []
    crash: Annotated[str, AfterValidator(explode)] | None = None


class CheckedMessage(BaseMessage):
    action: Literal["checked"] = "checked"
    payload: Checked


class CheckedConsumer(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle(self, message: CheckedMessage) -> None:
        return None


async def test_errors_raised_by_validators_on_every_item_are_counted_not_listed() -> None:
    # The pre-check runs no user code, so this frame reaches the decoder.
    codes = ["x"] * 5000
    async with WebsocketCommunicator(CheckedConsumer.as_asgi(), "/ws", timeout=10) as ws:
        await ws.send_json({"action": "checked", "payload": {"codes": codes}})
        reply = await ws.receive_text()
    assert len(reply) < 2048
    payload = json.loads(reply)["payload"]
    assert payload["error_count"] == 5000
    assert payload["errors"] == []
    assert "too many to list" in payload["detail"]


@pytest.mark.parametrize("frame", ["[" * 100_000, '{"action":"tag","payload":' + "[" * 50_000])
async def test_deep_nesting_gets_an_error_frame(frame: str) -> None:
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws", timeout=10) as ws:
        await ws.send_text(frame)
        error = await ws.receive_json()
        assert error["payload"]["code"] == "invalid_json"
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


async def test_a_validator_that_crashes_gets_an_error_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(CheckedConsumer.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "checked", "payload": {"crash": "x"}, "ref": 4})
        error = await ws.receive_json()
        assert error["ref"] == 4
        assert error["payload"]["code"] == "handler_error"
        assert "Traceback" not in error["payload"]["detail"]
        await ws.send_json({"action": "checked", "payload": {}})
        await ws.receive_nothing()
        assert ws.close_code is None
    assert "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize(
    "frame",
    ['{"action": "\\ud800", "ref": "\\udfff"}', '{"action": "tag", "payload": {"\\ud800": 1}}'],
)
async def test_lone_surrogates_in_a_frame_give_an_error_frame_that_is_valid_utf8(
    frame: str,
) -> None:
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws") as ws:
        await ws.send_text(frame)
        reply = await ws.receive_text()
    reply.encode()  # what a server does before sending it
    assert json.loads(reply)["action"] == "error"


@pytest.mark.parametrize(
    "escapes", [r"\ud800", r"\udc00", r"\ud800\u0041", r"\ud800x", r"\ud83d\ud83d"]
)
async def test_a_lone_surrogate_escape_is_named_in_the_error(escapes: str) -> None:
    frame = '{"action":"tag","payload":{"tags":["' + escapes + '"]}}'
    async with WebsocketCommunicator(TagConsumer.as_asgi(), "/ws", timeout=10) as ws:
        await ws.send_text(frame)
        payload = (await ws.receive_json())["payload"]
        assert payload["code"] == "invalid_json"
        assert "surrogate pair" in payload["detail"]
        # a real pair is accepted: no error frame comes before the pong
        await ws.send_text('{"action":"tag","payload":{"tags":["\\ud83d\\ude00"]}}')
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"
