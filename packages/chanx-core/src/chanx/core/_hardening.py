"""A pre-check for client frames that costs little whatever the frame holds.

pydantic reports every bad item of a list: one frame of half a million wrong items costs
half a million errors, and seconds of the server's only event loop. It also accepts
``1e999``, ``NaN`` and ``Infinity`` in a float field of any model that does not forbid them
itself, and a payload model is usually a plain `pydantic.BaseModel`.

The pre-check is a second validator compiled from the inbound union's core schema, with:

- containers (lists, tuples, sets, dicts) stopping at their first bad item (``fail_fast``);
- floats finite, unless the model declaring the field sets ``allow_inf_nan=True``;
- no user code: a function validator checks nothing below it (an after-validator checks
  the schema it wraps), a default factory is not called, and models are built as plain
  placeholder objects, so the compiled validators of the user's classes are not reused.

It accepts at least what the real decoder accepts, apart from non-finite floats: when it
refuses a frame, the decoder would refuse it too (or the frame holds a non-finite float),
and its errors are few. The consumer runs it before the decoder on large frames, and after
the decoder on a frame whose message holds floats when the frame's text could spell a
non-finite one: small valid frames never run it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import SchemaValidator

__all__ = ["PRECHECK_LENGTH", "Precheck", "may_be_non_finite"]

#: Frames longer than this (in characters) are pre-checked before they are decoded.
PRECHECK_LENGTH = 4096

# Text that could decode to a non-finite float: "nan" / "inf" in any case (NaN and
# Infinity tokens, or strings), an escape that could spell them, an exponent of three
# digits, or 200 digits in a row (with an exponent of two digits, a number needs more
# than 200 to overflow). Plain substring tests first: a regex that scans for all of these
# at once costs several times more.
_EXPONENT = re.compile(r"e\+?[0-9]{3}")
_LONG_NUMBER = re.compile(r"[0-9]{200}")


def may_be_non_finite(text: str) -> bool:
    """Whether ``text`` could decode to a non-finite float (False: it surely cannot)."""
    low = text.lower()
    return (
        "nan" in low
        or "inf" in low
        or "\\u00" in low
        or _EXPONENT.search(low) is not None
        or (len(text) >= 200 and _LONG_NUMBER.search(text) is not None)
    )


_CONTAINERS = frozenset({"list", "tuple", "set", "frozenset", "dict"})
_USER_CODE = frozenset({"function-before", "function-wrap", "function-plain"})
# Parts of a schema that do not take part in validation.
_KEPT = frozenset({"metadata", "serialization", "config", "ref"})


class _Placeholder:
    """What the pre-check builds in place of a model: nothing reads it."""


class _Rewrite:
    """One rewrite of a core schema; remembers whether it made a float finite."""

    def __init__(self) -> None:
        self.finite_floats = False

    def __call__(self, node: Any, finite: bool) -> Any:
        if isinstance(node, list):
            return [self(item, finite) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind in _USER_CODE:
            return {"type": "any"}
        if kind == "function-after":
            return self(node["schema"], finite)
        if "config" in node and kind in {"model", "dataclass", "typed-dict"}:
            finite = not node["config"].get("allow_inf_nan", False)
        copy = {key: value if key in _KEPT else self(value, finite) for key, value in node.items()}
        if kind == "model":
            copy.update(cls=_Placeholder, custom_init=False)
            copy.pop("post_init", None)
        elif kind == "dataclass":
            copy.update(cls=_Placeholder, post_init=False)
        elif kind in _CONTAINERS:
            copy.setdefault("fail_fast", True)
        elif kind == "float" and finite and "allow_inf_nan" not in copy:
            copy["allow_inf_nan"] = False
            self.finite_floats = True
        elif kind == "default" and "default_factory" in copy:
            del copy["default_factory"]
            copy.pop("default_factory_takes_data", None)
            copy["default"] = None
        return copy


class Precheck:
    """The pre-check of one consumer's inbound union (see the module docstring)."""

    def __init__(self, decoder: TypeAdapter[Any], models: tuple[type[Any], ...]) -> None:
        self.validate_json = SchemaValidator(_Rewrite()(decoder.core_schema, True)).validate_json
        #: Inbound models that hold a float the pre-check keeps finite.
        self.float_models = frozenset(model for model in models if _holds_finite_floats(model))


def _holds_finite_floats(model: type[Any]) -> bool:
    rewrite = _Rewrite()
    rewrite(TypeAdapter(model).core_schema, True)
    return rewrite.finite_floats
