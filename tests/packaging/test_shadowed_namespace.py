"""An old chanx 2.x install next to our packages: a clear error, and the fix it names works.

chanx 2.x (PyPI ``chanx``) ships ``chanx/__init__.py`` and ``chanx/core/__init__.py``, so in
one environment with our wheels it turns the ``chanx`` namespace into a regular package and
one side's ``chanx/core/__init__.py`` overwrites the other's, depending on install order.
Each scratch virtualenv here gets chanx 2.13 from PyPI (so these tests need the network,
which CI has) and the wheels built from this checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.packaging.conftest import uv_binary

pytestmark = [pytest.mark.slow, pytest.mark.network, pytest.mark.timeout(600)]

OLD_CHANX = "chanx==2.13.*"
FIX = "pip uninstall chanx"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=240, check=False
    )


def _install(venv: Path, *requirements: str | Path) -> None:
    result = _run(uv_binary(), "pip", "install", "--quiet", "--python", venv, *requirements)
    if result.returncode != 0:
        message = f"uv pip install {' '.join(map(str, requirements))} failed:\n{result.stderr}"
        if IN_CI or OLD_CHANX not in map(str, requirements):
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{OLD_CHANX} could not be installed from PyPI (offline?): {message}")


def _venv(tmp_path: Path, name: str) -> tuple[Path, Path]:
    venv = tmp_path / name
    result = _run(uv_binary(), "venv", "--quiet", "--python", sys.executable, venv)
    assert result.returncode == 0, result.stderr
    return venv, venv / "bin" / "python"


def _import(python: Path, statement: str) -> subprocess.CompletedProcess[str]:
    # Outside the repository, so that nothing of the checkout is importable.
    return subprocess.run(
        [str(python), "-c", statement],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=python.parents[2],
    )


def _wheels(dist_dir: Path) -> list[Path]:
    return sorted(dist_dir.glob("*.whl"))


def test_old_chanx_installed_first(dist_dir: Path, tmp_path: Path) -> None:
    """Our wheels own chanx/core/__init__.py: every package refuses with the fix."""
    venv, python = _venv(tmp_path, "old-first")
    _install(venv, "--no-deps", OLD_CHANX)
    _install(venv, *_wheels(dist_dir))

    for module in ("chanx.core", "chanx.fastapi", "chanx.django", "chanx.testing"):
        result = _import(python, f"import {module}")
        assert result.returncode != 0, f"import {module} worked beside chanx 2.x"
        error = result.stderr.strip().splitlines()
        assert "ImportError: chanx-" in "\n".join(error[-4:]), result.stderr
        assert "chanx 2.13.0 is installed at" in result.stderr
        assert FIX in result.stderr
        assert "pip install --force-reinstall chanx-core chanx-django" in result.stderr

    # The `chanx` command is ours here (installed last) and says the same.
    cli = _run(venv / "bin" / "chanx", "--help")
    assert cli.returncode != 0
    assert FIX in cli.stderr

    # The fix the message gives, done with uv: afterwards everything imports and runs.
    uninstall = _run(uv_binary(), "pip", "uninstall", "--python", venv, "chanx")
    assert uninstall.returncode == 0, uninstall.stderr
    assert _import(python, "from chanx.core import BaseMessage").returncode != 0, (
        "the uninstall should have taken chanx/core/__init__.py with it (why the fix reinstalls)"
    )
    _install(venv, "--reinstall", *_wheels(dist_dir))
    fixed = _import(
        python,
        "from chanx.core import BaseMessage; import chanx.fastapi, chanx.django, chanx.testing",
    )
    assert fixed.returncode == 0, fixed.stderr
    # Our `chanx` command again (without the cli extra, which these wheels were installed
    # without, it says what to install).
    assert "chanx-core[cli]" in _run(venv / "bin" / "chanx", "--help").stderr


def test_old_chanx_installed_last(dist_dir: Path, tmp_path: Path) -> None:
    """chanx 2.x owns chanx/core/__init__.py: the adapters and the pytest plugin explain."""
    venv, python = _venv(tmp_path, "old-last")
    _install(venv, *_wheels(dist_dir))
    _install(venv, "--no-deps", OLD_CHANX)

    for module in ("chanx.fastapi", "chanx.django", "chanx.testing"):
        result = _import(python, f"import {module}")
        assert result.returncode != 0
        assert FIX in result.stderr, result.stderr
    # pytest loads chanx-testing's plugin at start-up, so a test run stops with the fix too.
    pytest_run = _import(python, "import pytest; raise SystemExit(pytest.main(['--co']))")
    assert FIX in pytest_run.stdout + pytest_run.stderr
    # None of our code runs for a bare `import chanx.core` now (chanx 2.x's empty
    # __init__.py is the module): the error is Python's own, which docs/installation.md
    # explains. This assertion documents the limit; it fails if that ever changes.
    bare = _import(python, "from chanx.core import BaseMessage")
    assert "cannot import name 'BaseMessage' from 'chanx.core'" in bare.stderr
