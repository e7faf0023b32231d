"""JSON-compatible data as block-style YAML, without a YAML library.

Strings that could read as anything but a string (numbers, booleans, null, YAML syntax) are
written as JSON strings, which are valid YAML double-quoted scalars with the same escapes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["to_yaml"]

_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_ ./()'$#-]*")
_UNPRINTABLE = re.compile("[\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ud800-\\udfff\\ufffe\\uffff]")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 readers (PyYAML) take "1e+300" for a string: give the mantissa a dot.
        if "e" in text and "." not in text:
            text = text.replace("e", ".0e", 1)
        return text
    if isinstance(value, str):
        plain = (
            _PLAIN.fullmatch(value)
            and value.lower() not in _RESERVED
            and not value.endswith(" ")
            and ": " not in value
            and " #" not in value
        )
        if plain:
            return value
        # JSON leaves a few characters raw that YAML forbids or reads as line breaks.
        return _UNPRINTABLE.sub(_escape, json.dumps(value, ensure_ascii=False))
    raise TypeError(f"expected JSON-compatible data, but got {value!r}")


def _lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        if not value:
            return [indent + "{}"]
        out: list[str] = []
        for key, item in value.items():
            head = f"{indent}{_scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                out.extend(_lines(item, indent + "  "))
            else:
                out.append(f"{head} {_inline(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [indent + "[]"]
        out = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _lines(item, indent + "  ")
                # The first line of a nested block goes after the dash.
                out.append(f"{indent}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{indent}- {_inline(item)}")
        return out
    return [indent + _scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(data: Any) -> str:
    """``data`` (dicts, lists, strings, numbers, booleans, None) as YAML text.

    Needs no YAML library: an AsyncAPI document is plain JSON-compatible data.
    """
    return "\n".join(_lines(data, "")) + "\n"
