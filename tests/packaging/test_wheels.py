"""Build every distribution and check what the wheels and sdists ship.

``chanx`` is a PEP 420 namespace shared by several distributions: a wheel that shipped
``chanx/__init__.py`` would shadow the others' subpackages once installed side by side.
"""

from __future__ import annotations

import email
import re
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests.packaging.conftest import BUILD_TIMEOUT, ROOT

PACKAGES = {p.name: p.name.removeprefix("chanx-") for p in sorted(ROOT.glob("packages/chanx-*"))}
VERSION = (ROOT / "VERSION").read_text().strip()
LICENSE = (ROOT / "LICENSE").read_text()

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 60)]


def _dist_name(filename: str) -> str:
    # Wheel and sdist names normalise "chanx-core" to "chanx_core".
    return filename.split("-", 1)[0].replace("_", "-")


def test_one_wheel_and_one_sdist_per_package(dist_dir: Path) -> None:
    wheels = sorted(_dist_name(p.name) for p in dist_dir.glob("*.whl"))
    sdists = sorted(_dist_name(p.name) for p in dist_dir.glob("*.tar.gz"))
    assert len(PACKAGES) == 6
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


def _wheel_file(dist_dir: Path, dist: str, suffix: str) -> tuple[str, str]:
    (wheel,) = dist_dir.glob(f"{dist.replace('-', '_')}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return name, zf.read(name).decode()


def _metadata(dist_dir: Path, dist: str) -> Message:
    return email.message_from_string(_wheel_file(dist_dir, dist, ".dist-info/METADATA")[1])


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_license_ships_in_wheel_and_sdist(dist_dir: Path, dist: str) -> None:
    name, text = _wheel_file(dist_dir, dist, ".dist-info/licenses/LICENSE")
    assert text == LICENSE, f"{name} differs from the repository's LICENSE"
    (sdist,) = dist_dir.glob(f"{dist.replace('-', '_')}-*.tar.gz")
    with tarfile.open(sdist) as tf:
        member = tf.extractfile(f"{dist.replace('-', '_')}-{VERSION}/LICENSE")
        assert member is not None
        assert member.read().decode() == LICENSE
    assert _metadata(dist_dir, dist)["License-Expression"] == "MIT"


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_version_and_chanx_pins_come_from_the_version_file(dist_dir: Path, dist: str) -> None:
    metadata = _metadata(dist_dir, dist)
    assert metadata["Version"] == VERSION
    chanx_requirements = [
        r for r in metadata.get_all("Requires-Dist", []) if r.startswith("chanx-")
    ]
    if dist != "chanx-core":
        assert "chanx-core" in " ".join(chanx_requirements)
    pinned = re.compile(rf"chanx-[a-z]+(\[[a-z,]+\])?=={re.escape(VERSION)}(; .*)?")
    for requirement in chanx_requirements:
        assert pinned.fullmatch(requirement), (
            f"{dist} must pin the other chanx packages to its own version, got {requirement!r}"
        )


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_metadata_is_complete(dist_dir: Path, dist: str) -> None:
    metadata = _metadata(dist_dir, dist)
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL", []))
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    classifiers = metadata.get_all("Classifier", [])
    for minor in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {minor}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload(), f"{dist} has no long description (its README)"
