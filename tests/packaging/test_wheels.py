"""Build every distribution and check what the wheels and sdists ship.

``chanx`` is a PEP 420 namespace shared by several distributions: a wheel that shipped
``chanx/__init__.py`` would shadow the others' subpackages once installed side by side.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {p.name: p.name.removeprefix("chanx-") for p in sorted(ROOT.glob("packages/chanx-*"))}
BUILD_TIMEOUT = 300

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 60)]


def _uv() -> str:
    # `uv run` exports UV (its own binary), so this works even when uv is not on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        message = "uv is not on PATH (and UV is unset), so the distributions cannot be built"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return uv


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [_uv(), "build", "--all-packages", "--out-dir", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"uv build failed:\n{result.stdout}\n{result.stderr}"
    return out


def _dist_name(filename: str) -> str:
    # Wheel and sdist names normalise "chanx-core" to "chanx_core".
    return filename.split("-", 1)[0].replace("_", "-")


def test_one_wheel_and_one_sdist_per_package(dist_dir: Path) -> None:
    wheels = sorted(_dist_name(p.name) for p in dist_dir.glob("*.whl"))
    sdists = sorted(_dist_name(p.name) for p in dist_dir.glob("*.tar.gz"))
    assert len(PACKAGES) == 5
    assert wheels == sorted(PACKAGES)
    assert sdists == sorted(PACKAGES)


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_wheel_ships_its_namespace_subpackage_only(dist_dir: Path, dist: str) -> None:
    pkg = PACKAGES[dist]
    (wheel,) = dist_dir.glob(f"{dist.replace('-', '_')}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "chanx/__init__.py" not in names
    assert f"chanx/{pkg}/__init__.py" in names
    assert f"chanx/{pkg}/py.typed" in names
    strays = sorted(
        n for n in names if not n.startswith((f"chanx/{pkg}/", f"{dist.replace('-', '_')}-"))
    )
    assert strays == [], f"{wheel.name} ships files outside chanx/{pkg}/: {strays}"


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_sdist_has_no_namespace_init(dist_dir: Path, dist: str) -> None:
    (sdist,) = dist_dir.glob(f"{dist.replace('-', '_')}-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
    assert not [n for n in names if n.endswith("/src/chanx/__init__.py")]
    assert any(n.endswith(f"/src/chanx/{PACKAGES[dist]}/py.typed") for n in names)
