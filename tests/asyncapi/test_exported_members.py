"""chanx.core.asyncapi exports exactly its public names, sorted."""

from __future__ import annotations
import __future__

import types

import chanx.core.asyncapi


def test_all_is_sorted_and_lists_every_public_name() -> None:
    exported = chanx.core.asyncapi.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(chanx.core.asyncapi).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert set(exported) == public
