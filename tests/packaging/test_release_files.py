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


def test_licenses_are_identical_copies() -> None:
    reference = (ROOT / "LICENSE").read_bytes()
    for package in PACKAGE_DIRS:
        assert (package / "LICENSE").read_bytes() == reference, f"{package.name}/LICENSE differs"


@pytest.mark.parametrize("package", NAMES)
def test_build_hook_is_the_repository_one(package: str) -> None:
    # One hatch_build.py for every package: each package's build_hook.py links to it, and
    # its sdist ships the file itself (what tests/packaging/test_wheels.py builds from).
    hook = ROOT / "packages" / package / "build_hook.py"
    assert hook.is_symlink(), f"{package}/build_hook.py should link to ../../hatch_build.py"
    assert hook.resolve() == (ROOT / "hatch_build.py").resolve()
    project = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    hatch = project["tool"]["hatch"]
    assert hatch["metadata"]["hooks"]["custom"]["path"] == "build_hook.py"
    sdist = hatch["build"]["targets"]["sdist"]
    assert sdist["force-include"] == {"../../hatch_build.py": "build_hook.py"}
    assert "build_hook.py" in sdist["exclude"]
    assert not (ROOT / "packages" / package / "hatch_build.py").exists()


SHADOWED = re.compile(r'^if getattr\((_?sys)\.modules\["chanx"\], "__file__", None\) is not None:$')


def test_one_namespace_guard_imported_first() -> None:
    # chanx.core.namespace is the one guard, imported before any other chanx module so
    # that an old chanx 2.x install is reported before anything breaks. chanx.testing and
    # chanx.django import it only when `chanx` has a file (a regular package: chanx 2.x):
    # otherwise chanx.core is not loaded for nothing (the pytest plugin must stay light).
    for package in PACKAGE_DIRS:
        source = package / "src" / "chanx" / package.name.removeprefix("chanx-")
        assert not (source / "_namespace.py").exists(), f"{source}: a copy of the guard"
        lines = (source / "__init__.py").read_text().splitlines()
        first = next(
            i for i, line in enumerate(lines) if re.match(r"\s*(from|import) chanx\.", line)
        )
        assert lines[first].strip() == "import chanx.core.namespace  # noqa: F401", (
            f"{source}/__init__.py must import chanx.core.namespace before any chanx module"
        )
        if package.name in {"chanx-testing", "chanx-django"}:
            assert SHADOWED.match(lines[first - 1]), f"{source}: the guard's condition changed"


@pytest.mark.parametrize("package", NAMES)
def test_readme_stands_alone_on_pypi(package: str) -> None:
    readme = (ROOT / "packages" / package / "README.md").read_text()
    assert RELATIVE_LINK.findall(readme) == [], f"{package}/README.md has relative links"
    assert "https://" in readme, f"{package}/README.md should link the project and its docs"
