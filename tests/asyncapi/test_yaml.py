"""to_yaml writes YAML that a YAML reader turns back into the same data."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chanx.core.asyncapi import to_yaml
from tests.asyncapi.documents import DOCUMENTS

yaml = pytest.importorskip("yaml")

TRICKY = [
    "", " x", "x ", "yes", "No", "on", "~", "null", "1", "1.5", "0x10", "1e3", ".5", "-", "- a",
    "a: b", "a #b", "#x", "{x}", "[x]", "*x", "&x", "!x", "%x", "@x", "`x", "|", ">", "'q'",
    '"q"', "multi\nline", "tab\t", "é", "\u2028", "\x85", "\ufeff", "\x7f", "😀", "$ref",
    "$message.payload#/ref", "#/components/schemas/X", "<script>alert(1)</script>",
]  # fmt: skip


def test_tricky_strings_round_trip() -> None:
    data: dict[str, Any] = {"values": TRICKY, **{key: i for i, key in enumerate(TRICKY)}}
    assert yaml.safe_load(to_yaml(data)) == data


def test_numbers_and_nesting_round_trip() -> None:
    data = {"n": [None, True, False, 0, -1, 1.5, 1e300, -0.0, 1e-7], "e": [[], {}, [[1, [2]]]]}
    assert yaml.safe_load(to_yaml(data)) == data
    assert yaml.safe_load(to_yaml({"x": math.inf}))["x"] == math.inf


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_round_trip(name: str) -> None:
    document = DOCUMENTS[name]()
    assert yaml.safe_load(to_yaml(document)) == document


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_data_round_trips(data: Any) -> None:
    expected = json.loads(json.dumps(data))
    assert yaml.safe_load(to_yaml(data)) == expected


def test_non_json_data_is_named() -> None:
    with pytest.raises(TypeError, match="but got"):
        to_yaml({"x": object()})
