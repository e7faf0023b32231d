"""Hypothesis strategies for pydantic models, built from their fields' annotations.

pydantic 2 ships no hypothesis integration, and ``st.builds`` fills only required
arguments, so each field's annotation is turned into a strategy here: ``Literal``,
unions and ``Optional``, nested models, containers, ``Annotated`` constraints
(``Gt``/``Ge``/``Lt``/``Le``, ``MinLen``/``MaxLen``, ``pattern``) and, for anything
else, ``st.from_type``. A generated value is validated by the model; the rare one that
still fails (a validator, a constraint not read here) is rejected, not returned.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union

from hypothesis import reject
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

ModelT = TypeVar("ModelT", bound=BaseModel)

_OMIT = object()  # an optional field left out, so the model's default applies
_SIZE = 5  # containers stay small: examples are about shapes, not volume


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _numbers(kind: type, bounds: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if kind is int:
        low = bounds.get("ge", bounds["gt"] + 1 if "gt" in bounds else None)
        high = bounds.get("le", bounds["lt"] - 1 if "lt" in bounds else None)
        return st.integers(min_value=low, max_value=high)
    # JSON has no NaN or infinity: pydantic writes them as null, which no longer validates.
    return st.floats(
        min_value=bounds.get("ge", bounds.get("gt")),
        max_value=bounds.get("le", bounds.get("lt")),
        exclude_min="gt" in bounds,
        exclude_max="lt" in bounds,
        allow_nan=False,
        allow_infinity=False,
    )


def _text(bounds: Mapping[str, Any]) -> st.SearchStrategy[str]:
    pattern = bounds.get("pattern")
    if pattern is not None:
        return st.from_regex(pattern, fullmatch=True)
    low = bounds.get("min_length", 0)
    return st.text(min_size=low, max_size=bounds.get("max_length", max(low, 20)))


def _sizes(bounds: Mapping[str, Any]) -> tuple[int, int]:
    low: int = bounds.get("min_length", 0)
    return low, bounds.get("max_length", max(low, _SIZE))


def for_annotation(annotation: Any, metadata: Sequence[Any] = ()) -> st.SearchStrategy[Any]:
    """A strategy of Python values that pydantic validates as ``annotation``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return for_annotation(args[0], [*metadata, *args[1:]])
    bounds = _bounds(metadata)
    if annotation is Any:
        return json_values()
    if annotation is None or annotation is type(None):
        return st.none()
    if origin is Literal:
        return st.sampled_from(args)
    if origin is Union or origin is types.UnionType:
        return st.one_of([for_annotation(arg, metadata) for arg in args])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return from_model(annotation)
    if annotation is bool:
        return st.booleans()
    if annotation in (int, float):
        return _numbers(annotation, bounds)
    if annotation is str:
        return _text(bounds)
    if annotation is bytes:
        # pydantic writes bytes into JSON as UTF-8 text, so only text-safe bytes round-trip.
        return _text(bounds).map(str.encode)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    low, high = _sizes(bounds)
    if origin in (list, Sequence, set, frozenset) and args:
        items = for_annotation(args[0])
        if origin in (set, frozenset):
            return st.sets(items, min_size=low, max_size=high).map(origin)
        return st.lists(items, min_size=low, max_size=high)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(for_annotation(args[0]), min_size=low, max_size=high).map(tuple)
        return st.tuples(*(for_annotation(arg) for arg in args))
    if origin in (dict, Mapping) and args:
        keys, values = for_annotation(args[0]), for_annotation(args[1])
        return st.dictionaries(keys, values, min_size=low, max_size=high)
    return st.from_type(annotation)


def json_values(max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN or infinity), small."""
    scalars: st.SearchStrategy[Any] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=max_leaves,
    )


def _field_input_name(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return alias or name


def _field(info: FieldInfo) -> st.SearchStrategy[Any]:
    values = for_annotation(info.annotation, info.metadata)
    return values if info.is_required() else st.just(_OMIT) | values


def _validated(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not _OMIT})
    except ValidationError:
        reject()


_cache: dict[type[BaseModel], st.SearchStrategy[Any]] = {}


def from_model(model: type[ModelT]) -> st.SearchStrategy[ModelT]:
    """Valid instances of ``model``; optional fields are sometimes left to their default."""
    cached = _cache.get(model)
    if cached is None:

        def build() -> st.SearchStrategy[ModelT]:
            fields = {
                _field_input_name(name, info): _field(info)
                for name, info in model.model_fields.items()
            }
            return st.fixed_dictionaries(fields).map(lambda data: _validated(model, data))

        # deferred: a model may refer to itself (a tree of replies, say)
        cached = _cache[model] = st.deferred(build)
    return cached
