"""Error frames: one schema for every input a consumer cannot handle.

Codes are stable strings clients can switch on; ``detail`` is for humans; tracebacks and
internal values never appear in a frame. An error frame is small whatever the input: at
most `MAX_LISTED_ERRORS` field errors plus their total count, every string clipped, and
the request's ``ref`` only when it is at most `MAX_ECHOED_REF` characters long.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import ErrorDetails, SchemaValidator, core_schema

__all__ = [
    "MAX_ECHOED_REF",
    "MAX_LISTED_ERRORS",
    "ErrorCode",
    "FieldErrors",
    "describe_decode_error",
    "encode_error",
    "extract_ref",
    "unknown_action_detail",
]

#: Field errors an error frame lists; the rest are only counted.
MAX_LISTED_ERRORS = 10
#: The longest ``ref`` (characters, or digits of an integer) an error frame echoes; a
#: longer one is left out rather than clipped, since a clipped ref would name another request.
MAX_ECHOED_REF = 128
_REF_INT_BOUND = 10**MAX_ECHOED_REF  # integers of at most MAX_ECHOED_REF digits
_MAX_LOC_DEPTH = 16
_MAX_MESSAGE = 200
_MAX_DESCRIBED_ERRORS = 1000
_LONE_SURROGATE = (
    "a \\uD800-\\uDFFF escape must be half of a surrogate pair (high then low), "
    "a lone one is not a character"
)


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


class FieldErrors(NamedTuple):
    """The field errors an error frame lists, and how many there were in all."""

    listed: list[dict[str, Any]]
    total: int


def encode_error(
    code: str,
    detail: str,
    *,
    errors: FieldErrors | None = None,
    ref: str | int | None = None,
) -> str:
    """Return the JSON text of an error frame (`ErrorMessage`'s shape).

    Built directly rather than through the models: its parts are already plain JSON
    values, and the error path must stay as cheap as the input that caused it.
    """
    payload: dict[str, Any] = {"code": code, "detail": detail}
    if errors is not None:
        payload["errors"] = errors.listed
        payload["error_count"] = errors.total
    frame: dict[str, Any] = {"action": "error", "payload": payload}
    if ref is not None and (
        len(ref) <= MAX_ECHOED_REF
        if isinstance(ref, str)
        else -_REF_INT_BOUND < ref < _REF_INT_BOUND
    ):
        frame["ref"] = ref
    # ASCII: a lone surrogate the client sent (quoted in a detail) stays valid UTF-8.
    return json.dumps(frame, separators=(",", ":"))


# Reads only ``ref``: the rest of the frame is parsed but never becomes Python objects.
_ref_only = SchemaValidator(
    core_schema.typed_dict_schema(
        {
            "ref": core_schema.typed_dict_field(
                core_schema.union_schema(
                    [core_schema.str_schema(strict=True), core_schema.int_schema(strict=True)]
                ),
                required=False,
            )
        }
    )
)


def extract_ref(raw: str | bytes) -> str | int | None:
    """Best-effort ``ref`` of a frame that failed validation (only on the error path)."""
    try:
        ref: str | int | None = _ref_only.validate_json(raw).get("ref")
    except ValueError:  # not JSON, not an object, or a ref of another type
        return None
    return ref


_MISSING = object()


@functools.cache
def _reader(field: str) -> SchemaValidator:
    # Like _ref_only: the rest of the frame is parsed but never becomes Python objects.
    schema = core_schema.typed_dict_field(core_schema.any_schema(), required=False)
    return SchemaValidator(core_schema.typed_dict_schema({field: schema}))


def _field_value(raw: str | bytes, field: str) -> object:
    """The JSON value of the frame's top-level ``field`` (only on the error path)."""
    try:
        found: dict[str, object] = _reader(field).validate_json(raw)
    except ValueError:
        return _MISSING
    return found.get(field, _MISSING)


def _clip(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_loc(loc: tuple[int | str, ...], tags: frozenset[str]) -> list[int | str]:
    if loc and loc[0] in tags:  # a discriminated union puts the matched tag first
        loc = loc[1:]
    # Keys come from the client: a location names at most a few clipped ones.
    return [part if isinstance(part, int) else _clip(part) for part in loc[:_MAX_LOC_DEPTH]]


def _field_errors(errors: list[ErrorDetails], tags: frozenset[str]) -> FieldErrors:
    listed = [
        {
            "loc": _clip_loc(error["loc"], tags),
            "msg": _clip(error["msg"], _MAX_MESSAGE),
            "type": error["type"],
        }
        for error in errors[:MAX_LISTED_ERRORS]
    ]
    return FieldErrors(listed, len(errors))


def _as_json(value: object) -> str:
    """``value`` as the client wrote it (JSON: ``"chat"``, ``null``, ``5``), clipped.

    A detail is read by a client in any language: it quotes values in JSON, never in
    Python's repr (``'None'``).
    """
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # not a JSON value: only a placeholder tag can be this
        text = json.dumps(str(value), ensure_ascii=False)
    return _clip(text)


def _expected(known: Iterable[str], field: str) -> str:
    names = ", ".join(_as_json(tag) for tag in sorted(known))
    return f"expected one of {names}" if names else f"this endpoint has no {field} handlers"


def unknown_action_detail(action: object, known: Iterable[str], field: str = "action") -> str:
    """``detail`` of an ``unknown_action`` error: the value received and the known ones."""
    return f"unknown {field}: {_as_json(action)}; {_expected(known, field)}"


def describe_decode_error(
    exc: ValidationError,
    known: Iterable[str],
    *,
    field: str = "action",
    raw: str | bytes | None = None,
) -> tuple[str, str, FieldErrors | None]:
    """Turn a decoder's `ValidationError` into ``(code, detail, field errors)``.

    ``raw``, the frame, lets an unknown tag be quoted as the client sent it: the
    `ValidationError` only has its text (``None`` for ``null``, ``5`` for ``"5"``).
    """
    tags = frozenset(known)
    expected = _expected(tags, field)
    total = exc.error_count()
    if total > _MAX_DESCRIBED_ERRORS:
        # Only a frame that passed the pre-check gets here (a small one, or one whose
        # errors come from the user's validators): listing would cost more than it tells.
        detail = f"frame does not match the message schema ({total} errors, too many to list)"
        return ErrorCode.VALIDATION_ERROR, detail, FieldErrors([], total)
    errors = exc.errors(include_url=False, include_input=False)  # computed once
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        reason = first["msg"].removeprefix("Invalid JSON: ")
        if "hex escape" in reason:
            # The parser's words for a lone \uD800-\uDFFF escape ("unexpected end of hex
            # escape", "lone leading surrogate") do not say what to fix.
            reason = f"{_LONE_SURROGATE} ({reason})"
        return ErrorCode.INVALID_JSON, "frame is not valid JSON: " + reason, None
    if kind in {"dict_type", "model_type", "model_attributes_type"} and not first["loc"]:
        return (
            ErrorCode.INVALID_MESSAGE,
            f'expected a JSON object like {{"{field}": ..., "payload": ...}}',
            None,
        )
    if kind == "union_tag_not_found":
        detail = f"frame has no {_as_json(field)}; {expected}"
        return ErrorCode.MISSING_ACTION, detail, None
    if kind == "union_tag_invalid":
        tag = _field_value(raw, field) if raw is not None else _MISSING
        if tag is _MISSING:
            tag = (first.get("ctx") or {}).get("tag")
        return ErrorCode.UNKNOWN_ACTION, unknown_action_detail(tag, tags, field), None
    return (
        ErrorCode.VALIDATION_ERROR,
        "frame does not match the message schema",
        _field_errors(errors, tags),
    )
