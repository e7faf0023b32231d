"""Starlette plus one pydantic pass per frame: the cost of typing without a framework."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class Seq(BaseModel):
    seq: int


class Ping(BaseModel):
    action: Literal["ping"]
    payload: None = None


class Pong(BaseModel):
    action: Literal["pong"] = "pong"
    payload: None = None


class Echo(BaseModel):
    action: Literal["echo"]
    payload: Seq


class Broadcast(BaseModel):
    action: Literal["broadcast"]
    payload: Seq


class Notify(BaseModel):
    action: Literal["notify"] = "notify"
    payload: Seq


inbound: TypeAdapter[Ping | Echo | Broadcast] = TypeAdapter(
    Annotated[Ping | Echo | Broadcast, Field(discriminator="action")]
)
members: set[WebSocket] = set()


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    members.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = inbound.validate_json(text)
            except ValidationError as exc:
                await websocket.send_text(f'{{"action":"error","payload":{exc.json()}}}')
                continue
            if isinstance(message, Ping):
                await websocket.send_text(Pong().model_dump_json())
            elif isinstance(message, Echo):
                await websocket.send_text(message.model_dump_json())
            else:
                notify = Notify(payload=message.payload).model_dump_json()
                for member in list(members):
                    try:
                        await member.send_text(notify)
                    except Exception:  # a member closing mid-loop must not stop the others
                        members.discard(member)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)


app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
