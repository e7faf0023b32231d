"""Turning a connection away: before accept (HTTP) or just after it (a readable close)."""

from __future__ import annotations

from chanx.core._errors import encode_error
from chanx.core.types import Scope, Send

__all__ = ["clip_reason", "reject"]

_MAX_REASON_BYTES = 123  # the WebSocket protocol's limit for a close reason
_HTTP_STATUS = {4400: 400, 4401: 401, 4403: 403, 1008: 403, 1013: 503}


def clip_reason(reason: str | None) -> str:
    """``reason`` cut to what a close frame can carry."""
    return (reason or "").encode()[:_MAX_REASON_BYTES].decode(errors="ignore")


async def reject(
    scope: Scope,
    send: Send,
    *,
    code: int,
    reason: str | None,
    error_code: str | None,
    in_handshake: bool,
) -> None:
    """Refuse a connection that has not been accepted.

    In the handshake it gets an HTTP response when the server offers the
    ``websocket.http.response`` extension (else a close before accept, which servers turn
    into HTTP 403). Otherwise it is accepted, sent an error frame (if ``error_code``) and
    closed with ``code`` and ``reason``, which browsers can read.
    """
    if in_handshake:
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": _HTTP_STATUS.get(code, 500),
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            body = (reason or "connection rejected").encode()
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": code})
        return
    await send({"type": "websocket.accept"})
    if error_code is not None:
        text = encode_error(error_code, reason or "connection rejected")
        await send({"type": "websocket.send", "text": text})
    await send({"type": "websocket.close", "code": code, "reason": clip_reason(reason)})
