"""The check every chanx package runs first: is an old ``chanx`` 2.x install in the way?

chanx 2.x (PyPI name ``chanx``) is a regular package with ``chanx/__init__.py`` and its own
``chanx/core/``. Installed next to the chanx-* packages it becomes the ``chanx`` package
itself, our subpackages load from inside it, and whichever was installed last owns
``chanx/core/__init__.py``. ``pip check`` does not notice, so `check_namespace` says it.

Importing this module runs the check: ``chanx.core`` imports it before anything else, and
the other chanx packages import it first whenever ``chanx`` has a ``__file__`` (only a
regular package has one), so that they do not load ``chanx.core`` for nothing: one guard,
not a copy per package. It imports
nothing of chanx, so it loads even when chanx 2.x owns ``chanx/core/__init__.py`` (an empty
file there), and chanx 2.x ships no module of this name, so the file is always ours. A
third-party package that lives in the ``chanx`` namespace can import it the same way.
"""

from __future__ import annotations

import importlib.metadata
import sys

__all__ = ["check_namespace"]


def check_namespace() -> None:
    """Raise ImportError, saying how to fix it, when ``chanx`` is a regular package.

    Raises:
        ImportError: chanx 2.x (or another regular package named ``chanx``) shadows the
            namespace; the message gives the commands that repair the environment.
    """
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
    )
    raise ImportError(
        f"chanx-* packages cannot be imported: {found} is installed at {location} and shadows the "
        "chanx.* namespace the chanx-* packages share (chanx 2.x is the older, single-package "
        "Chanx). Uninstall it, then reinstall the chanx-* packages, because uninstalling it "
        "also removes a file they share with it:\n"
        f"    pip uninstall chanx\n    pip install --force-reinstall {' '.join(ours)}",
        name="chanx",
    )


check_namespace()
