"""The distributions, built once per test session for every packaging test that needs them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 300


def uv_binary() -> str:
    """The uv executable (skip locally, fail under CI when there is none)."""
    # `uv run` exports UV (its own binary), so this works even when uv is not on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        message = "uv is not on PATH (and UV is unset), so the distributions cannot be built"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return uv


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel and an sdist of every package, built the way a release builds them."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [uv_binary(), "build", "--all-packages", "--out-dir", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"uv build failed:\n{result.stdout}\n{result.stderr}"
    return out
