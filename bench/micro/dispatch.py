"""Micro-benchmark: decode + validate + dispatch + encode cost per frame, in µs.

A 3-action consumer handles frames through its real frame path (`_on_frame`) with a send
that only counts; no server, no socket. Run: ``uv run python bench/micro/dispatch.py``.
Not a test: numbers depend on the machine; compare them within one run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, PingMessage, PongMessage, ws_handler
from chanx.core._connection import Connection  # the frame path alone, without a server


class ChatPayload(BaseModel):
    room: int
    text: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatReply(BaseMessage):
    action: Literal["chat_reply"] = "chat_reply"
    payload: ChatPayload


class TypingMessage(BaseMessage):
    action: Literal["typing"] = "typing"
    payload: bool


class Reading(BaseModel):
    sensor: str
    value: float


class ReadingMessage(BaseMessage):
    action: Literal["reading"] = "reading"
    payload: Reading


class TagsMessage(BaseMessage):
    action: Literal["tags"] = "tags"
    payload: list[str]


class Bench(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def chat(self, message: ChatMessage) -> ChatReply:
        return ChatReply(payload=message.payload)

    @ws_handler
    async def typing(self, message: TypingMessage) -> None:
        return None

    @ws_handler
    async def reading(self, message: ReadingMessage) -> None:
        return None

    @ws_handler
    async def tags(self, message: TagsMessage) -> None:
        return None


FRAMES = {
    "ping": '{"action":"ping"}',
    "chat": '{"action":"chat","payload":{"room":1,"text":"hello there"}}',
    "typing": '{"action":"typing","payload":true}',
    "unknown": '{"action":"nope"}',
    "invalid": '{"action":"chat","payload":{"room":"x","text":5}}',
    # a float field: chanx screens its text for a non-finite value
    "reading": '{"action":"reading","payload":{"sensor":"t1","value":21.5}}',
    # 64 KB of wrong-typed list items: the amplification attack (one error per item)
    "wrong-64k": '{"action":"tags","payload":[' + ",".join("1" * 32_000) + "]}",
}


async def receive_nothing() -> Any:
    raise AssertionError("the frame path alone never reads the socket")


async def measure(frame: str, n: int) -> float:
    consumer = Bench()
    sent = 0

    async def send(message: Any) -> None:
        nonlocal sent
        sent += 1

    consumer._connection = Connection(receive_nothing, send, "bench")
    on_frame = consumer._on_frame
    start = time.perf_counter()
    for _ in range(n):
        await on_frame(frame, False)
    return (time.perf_counter() - start) / n * 1e6


def baseline(n: int) -> float:
    """A hand-written json.loads + dict dispatch + TypeAdapter, for scale."""
    adapter = TypeAdapter(ChatMessage)
    frame = FRAMES["chat"]
    start = time.perf_counter()
    for _ in range(n):
        data = json.loads(frame)
        if data["action"] == "chat":
            message = adapter.validate_python(data)
            ChatReply(payload=message.payload).model_dump_json()
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    n = 20_000
    print(f"{'frame':<10} {'µs/frame (median of 5)':>24}")
    for name, frame in FRAMES.items():
        runs = [await measure(frame, n if len(frame) < 1000 else 50) for _ in range(5)]
        print(f"{name:<10} {statistics.median(runs):>24.2f}")
    runs = [baseline(n) for _ in range(5)]
    note = "(json.loads + validate_python + dump, chat)"
    print(f"{'baseline':<10} {statistics.median(runs):>24.2f}  {note}")


if __name__ == "__main__":
    asyncio.run(main())
