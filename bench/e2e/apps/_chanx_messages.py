"""Bench messages for the chanx targets, written against DESIGN.md §2."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chanx.core import BaseMessage


class Seq(BaseModel):
    seq: int


class EchoMessage(BaseMessage):
    action: Literal["echo"] = "echo"
    payload: Seq


class BroadcastMessage(BaseMessage):
    action: Literal["broadcast"] = "broadcast"
    payload: Seq


class NotifyMessage(BaseMessage):
    action: Literal["notify"] = "notify"
    payload: Seq
