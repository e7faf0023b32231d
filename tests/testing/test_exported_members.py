"""chanx.testing exports exactly its public names, sorted."""

from __future__ import annotations
import __future__

import importlib.metadata
import types

import chanx.testing


def test_all_is_sorted_and_lists_every_public_name() -> None:
    exported = chanx.testing.__all__
    assert exported == sorted(exported)
    for name in exported:  # the names load on first use
        getattr(chanx.testing, name)
    public = {
        name
        for name, value in vars(chanx.testing).items()
        if not name.startswith("_")
        # submodules (chanx.testing.layers once imported) and `from __future__` features
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert set(exported) - {"__version__"} == public
    for name in public:
        assert getattr(chanx.testing, name).__module__.startswith("chanx.testing.")


def test_version_comes_from_package_metadata() -> None:
    assert chanx.testing.__version__ == importlib.metadata.version("chanx-testing")
