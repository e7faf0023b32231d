"""The public surface of chanx.django: complete, and lazy."""

from __future__ import annotations

import subprocess
import sys

import chanx.django


def test_every_public_name_resolves() -> None:
    # (ruff's RUF022 keeps __all__ sorted)
    names = [name for name in chanx.django.__all__ if name != "__version__"]
    for name in names:
        assert getattr(chanx.django, name) is not None
    assert sorted(dir(chanx.django)) == sorted(chanx.django.__all__)


def test_importing_the_package_does_not_import_django() -> None:
    probe = "import sys, chanx.django; print('django' in sys.modules, 'channels' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "False"]
