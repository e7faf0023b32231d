"""Release files of the repository and of each package, checked without building anything."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = sorted(ROOT.glob("packages/chanx-*"))
NAMES = [p.name for p in PACKAGE_DIRS]
# A Markdown link or image whose target has no scheme: it breaks on PyPI.
RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)([^)]+)\)")


def test_release_documents_exist() -> None:
    for name in ("LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "VERSION", "README.md"):
        assert (ROOT / name).is_file(), f"{name} is missing at the repository root"
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*\n", (ROOT / "VERSION").read_text())
    version = (ROOT / "VERSION").read_text().strip()
    assert f"## {version}" in (ROOT / "CHANGELOG.md").read_text(), (
        f"CHANGELOG.md has no section for {version}"
    )


@pytest.mark.parametrize("package", NAMES)
def test_version_is_not_typed_into_the_package(package: str) -> None:
    project = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    assert "version" not in project["project"], "the version lives in VERSION only"
    assert {"version", "dependencies"} <= set(project["project"]["dynamic"])
    hook = project["tool"]["hatch"]["metadata"]["hooks"]["custom"]
    for requirement in hook["dependencies"]:
        if requirement.startswith("chanx-"):
            assert re.fullmatch(r"chanx-[a-z]+(\[[a-z,]+\])?", requirement), (
                f"{package}: {requirement!r} carries a version; hatch_build.py pins it"
            )


@pytest.mark.parametrize(
    "relative",
    ["hatch_build.py", "LICENSE"],
)
def test_shared_files_are_identical_copies(relative: str) -> None:
    reference = ROOT / relative if relative == "LICENSE" else PACKAGE_DIRS[0] / relative
    for package in PACKAGE_DIRS:
        assert (package / relative).read_bytes() == reference.read_bytes(), (
            f"{package.name}/{relative} differs from {reference.relative_to(ROOT)}"
        )


def test_namespace_guards_are_identical_and_first() -> None:
    guards = [p / "src" / "chanx" / p.name.removeprefix("chanx-") for p in PACKAGE_DIRS]
    reference = (guards[0] / "_namespace.py").read_bytes()
    for package in guards:
        assert (package / "_namespace.py").read_bytes() == reference, package
        init = (package / "__init__.py").read_text()
        first_chanx_import = re.search(r"^(?:from|import) chanx\.\S+", init, re.MULTILINE)
        assert first_chanx_import is not None
        assert first_chanx_import.group() == f"import chanx.{package.name}._namespace", (
            f"{package}/__init__.py must import its _namespace guard before any chanx module"
        )


@pytest.mark.parametrize("package", NAMES)
def test_readme_stands_alone_on_pypi(package: str) -> None:
    readme = (ROOT / "packages" / package / "README.md").read_text()
    assert RELATIVE_LINK.findall(readme) == [], f"{package}/README.md has relative links"
    assert "https://" in readme, f"{package}/README.md should link the project and its docs"
