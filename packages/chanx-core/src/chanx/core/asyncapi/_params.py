"""Path parameters of a route, as AsyncAPI 3.0 Parameter objects.

AsyncAPI 3.0 parameters are strings in the address and carry no schema of their own, so
each one says what it accepts in its description and ``examples``, and gives a JSON Schema
of the converted value under ``x-chanx-schema`` for tools that want it. The kind comes
from the route: a Starlette convertor (``{id:int}``), a Django converter (``<uuid:id>``)
or a regular expression (``(?P<id>[0-9]{4})``, a custom Django converter's regex).
"""

from __future__ import annotations

from typing import Any

__all__ = ["parameter_object"]

# kind: (what it accepts, the schema of the value, an example segment)
_KINDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "str": ("any text without '/'", {"type": "string", "pattern": "^[^/]+$"}, "lobby"),
    "int": ("a non-negative integer", {"type": "integer", "minimum": 0}, "42"),
    "float": ("a non-negative number", {"type": "number", "minimum": 0}, "1.5"),
    "slug": (
        "a slug: ASCII letters, digits, '-' and '_'",
        {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        "my-room",
    ),
    "uuid": (
        "a UUID",
        {"type": "string", "format": "uuid"},
        "6f1c1a52-3d0e-4c4b-9c8e-5b0a4d6e7f80",
    ),
    "path": ("any text, '/' included", {"type": "string", "pattern": "^.+$"}, "docs/a.md"),
}
_REGEX = "regex "


def parameter_object(name: str, kind: str) -> dict[str, Any]:
    """The Parameter object of the path segment ``name`` whose route declares ``kind``."""
    if kind.startswith(_REGEX):
        regex = kind.removeprefix(_REGEX)
        return {
            "description": f"Path segment {name!r}: text matching the regular expression "
            f"`{regex}`.",
            "x-chanx-schema": {"type": "string", "pattern": f"^(?:{regex})$"},
        }
    if kind not in _KINDS:
        # A custom Starlette convertor: only its name is known here.
        return {
            "description": f"Path segment {name!r} (converted by {kind!r}).",
            "x-chanx-schema": {"type": "string"},
        }
    accepts, schema, example = _KINDS[kind]
    return {
        "description": f"Path segment {name!r}: {accepts}.",
        "examples": [example],
        "x-chanx-schema": schema,
    }
