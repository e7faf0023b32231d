"""Error frames: one schema for every input a consumer cannot handle.

Codes are stable strings clients can switch on; ``detail`` is for humans; tracebacks and
internal values never appear in a frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from chanx.core._messages import ErrorMessage, ErrorPayload

__all__ = ["ErrorCode", "describe_decode_error", "encode_error", "extract_ref"]


class ErrorCode:
    """The ``payload.code`` values of error frames."""

    INVALID_JSON = "invalid_json"
    BINARY_FRAME = "binary_frame"
    INVALID_MESSAGE = "invalid_message"
    MISSING_ACTION = "missing_action"
    UNKNOWN_ACTION = "unknown_action"
    VALIDATION_ERROR = "validation_error"
    HANDLER_ERROR = "handler_error"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    FRAME_TOO_LARGE = "frame_too_large"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"


def encode_error(
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    ref: str | int | None = None,
) -> str:
    """Return the JSON text of an error frame."""
    payload = ErrorPayload(code=code, detail=detail, errors=errors)
    return ErrorMessage(payload=payload, ref=ref).model_dump_json()


def extract_ref(raw: str | bytes) -> str | int | None:
    """Best-effort ``ref`` of a frame that failed validation (only on the error path)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, (str, int)) and not isinstance(ref, bool) else None


def _clip(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_errors(exc: ValidationError, tags: frozenset[str]) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(error["loc"])
        if loc and loc[0] in tags:  # a discriminated union puts the matched tag first
            loc = loc[1:]
        errors.append({"loc": loc, "msg": error["msg"], "type": error["type"]})
    return errors


def describe_decode_error(
    exc: ValidationError, known: Iterable[str], *, field: str = "action"
) -> tuple[str, str, list[dict[str, Any]] | None]:
    """Turn a decoder's `ValidationError` into ``(code, detail, field errors)``."""
    tags = frozenset(known)
    expected = ", ".join(repr(tag) for tag in sorted(tags)) or "none"
    first = exc.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return (
            ErrorCode.INVALID_JSON,
            "frame is not valid JSON: " + first["msg"].removeprefix("Invalid JSON: "),
            None,
        )
    if kind in {"dict_type", "model_type", "model_attributes_type"} and not first["loc"]:
        return (
            ErrorCode.INVALID_MESSAGE,
            f'expected a JSON object like {{"{field}": ..., "payload": ...}}',
            None,
        )
    if kind == "union_tag_not_found":
        return ErrorCode.MISSING_ACTION, f"frame has no {field!r}; expected one of {expected}", None
    if kind == "union_tag_invalid":
        tag = (first.get("ctx") or {}).get("tag")
        shown = repr(_clip(str(tag))) if tag is not None else "value"
        return (
            ErrorCode.UNKNOWN_ACTION,
            f"unknown {field} {shown}; expected one of {expected}",
            None,
        )
    return (
        ErrorCode.VALIDATION_ERROR,
        "frame does not match the message schema",
        _field_errors(exc, tags),
    )
