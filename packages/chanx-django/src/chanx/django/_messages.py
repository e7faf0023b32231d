"""Frames chanx.django sends on its own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chanx.core import BaseMessage

__all__ = ["AuthenticatedMessage", "AuthenticatedPayload"]


class AuthenticatedPayload(BaseModel):
    """Who the connection authenticated as (both None for an anonymous user)."""

    user_id: str | int | None = None
    username: str | None = None


class AuthenticatedMessage(BaseMessage):
    """Sent right after accept when ``CHANX["SEND_AUTHENTICATION_MESSAGE"]`` is on."""

    action: Literal["authenticated"] = "authenticated"
    payload: AuthenticatedPayload
