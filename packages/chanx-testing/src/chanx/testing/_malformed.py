"""Frames a consumer must refuse: broken JSON, binary data, wrong shapes and wrong types."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from chanx.testing._model_strategies import from_model, json_values

Frame = str | bytes

# Deeper than pydantic's JSON parser accepts (it stops at 200 levels), below the
# consumer's default frame-size limit.
_DEEP = 1000


def invalid_json() -> st.SearchStrategy[str]:
    """Text that is not JSON, including JSON cut short."""
    truncated = json_values().map(json.dumps).filter(lambda t: len(t) > 1).map(lambda t: t[:-1])
    junk = st.text(max_size=40).filter(_not_json)
    fixed = st.sampled_from(["", " ", "{", '{"action": ', "{'action': 'ping'}", "NaN", "[1,]"])
    return st.one_of(fixed, junk, truncated.filter(_not_json))


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return True
    return False


def binary() -> st.SearchStrategy[bytes]:
    """Binary frames: random bytes, invalid UTF-8, and valid JSON sent as bytes."""
    invalid_utf8 = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b'{"action":"\xfe"}'])
    as_bytes = st.just(b'{"action": "ping"}')
    return st.one_of(st.binary(max_size=64), invalid_utf8, as_bytes)


def non_object_json() -> st.SearchStrategy[str]:
    """Valid JSON whose top level is not an object."""
    return json_values().filter(lambda v: not isinstance(v, dict)).map(json.dumps)


def deep_nesting() -> st.SearchStrategy[str]:
    """Nesting deeper than the JSON parser allows, at the top or inside a payload."""
    depth = st.integers(min_value=_DEEP // 2, max_value=_DEEP)
    return st.one_of(
        depth.map(lambda n: "[" * n + "]" * n),
        depth.map(lambda n: '{"action": "x", "payload": ' + "[" * n + "]" * n + "}"),
    )


_HUGE_MARK = "\x00chanx-huge-number"


def _huge(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from(["1e999", "-1e999", "9" * 5000, "1" + "0" * 400, "1e-999", value])


def missing_action() -> st.SearchStrategy[str]:
    """Objects without an ``action`` key (some with huge numbers in them)."""
    objects = st.dictionaries(st.text(max_size=8).filter(lambda k: k != "action"), json_values())
    numbers = _huge("0").map(lambda n: '{"payload": ' + n + "}")
    return objects.map(json.dumps) | numbers


def bad_action_type() -> st.SearchStrategy[str]:
    """An ``action`` that is not a string."""
    values = json_values().filter(lambda v: not isinstance(v, str))
    return values.map(lambda v: json.dumps({"action": v, "payload": None}))


def unknown_action(known: frozenset[str]) -> st.SearchStrategy[str]:
    """A string ``action`` no handler takes."""
    actions = st.text(max_size=20).filter(lambda a: a not in known)
    return st.builds(lambda a, p: json.dumps({"action": a, "payload": p}), actions, json_values())


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            if prefix or key != "action":  # a bad action is another category
                found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replace(data[path[0]], path[1:], value)
    return copy


@st.composite
def _mutated(draw: st.DrawFn, model: type[BaseModel], *, extra: bool) -> str:
    data = draw(from_model(model)).model_dump(mode="json", by_alias=True)
    if extra:
        key = draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in data))
        data[key] = draw(json_values())
    else:
        bad = draw(json_values() | st.just(_HUGE_MARK))
        paths = _paths(data)
        if paths:
            data = _replace(data, draw(st.sampled_from(paths)), bad)
        else:
            data["payload"] = bad
    return json.dumps(data).replace(json.dumps(_HUGE_MARK), draw(_huge("1e999")))


def wrong_fields(models: tuple[type[BaseModel], ...]) -> st.SearchStrategy[str]:
    """Valid messages with one value made wrong (a wrong type, a huge number).

    For models that forbid extra fields, also valid messages with a field added.
    """
    if not models:
        return st.nothing()
    strategies = [_mutated(model, extra=False) for model in models]
    strategies += [
        _mutated(model, extra=True)
        for model in models
        if model.model_config.get("extra") == "forbid"
    ]
    return st.one_of(strategies)
