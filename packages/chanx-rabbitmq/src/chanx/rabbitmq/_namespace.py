"""Stop at import when an old ``chanx`` 2.x install shadows the ``chanx`` namespace.

Every chanx package ships the same copy of this module (a test keeps them identical) and
imports it before anything else; importing it runs the check. It must not import another
chanx package: with the old install in place, those may be the broken ones.

chanx 2.x (PyPI name ``chanx``) is a regular package with ``chanx/__init__.py`` and its own
``chanx/core/``. Installed next to the chanx-* packages it becomes the ``chanx`` package
itself, our subpackages load from inside it, and whichever was installed last owns
``chanx/core/__init__.py``. ``pip check`` does not notice, so this check says it.
"""

from __future__ import annotations

import importlib.metadata
import sys


def check_namespace(dist: str) -> None:
    """Raise ImportError, saying how to fix it, when ``chanx`` is a regular package."""
    location = getattr(sys.modules.get("chanx"), "__file__", None)
    if location is None:  # a PEP 420 namespace has no file: nothing shadows it
        return
    try:
        found = f"chanx {importlib.metadata.version('chanx')}"
    except importlib.metadata.PackageNotFoundError:
        found = "a regular package named chanx"
    ours = sorted(
        {
            name
            for d in importlib.metadata.distributions()
            if (name := str(d.metadata["Name"]).lower()).startswith("chanx-")
        }
        | {dist}
    )
    raise ImportError(
        f"{dist} cannot be imported: {found} is installed at {location} and shadows the "
        "chanx.* namespace the chanx-* packages share (chanx 2.x is the older, single-package "
        "Chanx). Uninstall it, then reinstall the chanx-* packages, because uninstalling it "
        "also removes a file they share with it:\n"
        f"    pip uninstall chanx\n    pip install --force-reinstall {' '.join(ours)}",
        name="chanx",
    )


check_namespace("chanx-" + __name__.split(".")[1])
