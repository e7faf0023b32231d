"""The source tree keeps the namespace layout and each package's curated public surface."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("packages/chanx-*/src"))
PACKAGES = sorted(p.parent.name.removeprefix("chanx-") for p in SOURCES)


def _ruff_all_order(name: str) -> tuple[int, list[str | int]]:
    # The order ruff's RUF022 (enforced by `ruff check`) gives __all__: SCREAMING_CASE, then
    # CamelCase, then the rest, each in natural order ("v2" before "v10").
    group = 0 if len(name) > 1 and name.isupper() else 1 if name[0].isupper() else 2
    natural: list[str | int] = [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
    return group, natural


def test_six_packages() -> None:
    assert PACKAGES == ["core", "django", "fastapi", "rabbitmq", "redis", "testing"]


def test_no_namespace_init() -> None:
    offenders = [str(p.relative_to(ROOT)) for src in SOURCES for p in src.glob("chanx/__init__.py")]
    assert offenders == [], "chanx is a PEP 420 namespace: delete " + ", ".join(offenders)


def test_only_own_subpackage_under_chanx() -> None:
    for src in SOURCES:
        pkg = src.parent.name.removeprefix("chanx-")
        entries = sorted(p.name for p in (src / "chanx").iterdir() if p.name != "__pycache__")
        assert entries == [pkg], f"{src.relative_to(ROOT)}/chanx holds {entries}"


@pytest.mark.parametrize("pkg", PACKAGES)
def test_py_typed(pkg: str) -> None:
    assert (ROOT / f"packages/chanx-{pkg}/src/chanx/{pkg}/py.typed").is_file()


@pytest.mark.parametrize("pkg", PACKAGES)
def test_public_names_sorted_and_resolvable(pkg: str) -> None:
    module = importlib.import_module(f"chanx.{pkg}")
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"chanx.{pkg} must define __all__ as a list"
    assert exported == sorted(exported, key=_ruff_all_order), (
        f"chanx.{pkg}.__all__ is not sorted (`ruff check --select RUF022 --fix` sorts it)"
    )
    assert len(set(exported)) == len(exported), f"chanx.{pkg}.__all__ has duplicates"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == [], f"chanx.{pkg}.__all__ names what it does not define: {missing}"


def _private_imports(path: Path, own: str) -> list[str]:
    """``chanx.<other>._x`` imports in ``path`` (TYPE_CHECKING and function-local ones too)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [a.name for a in node.names if a.name.startswith("_") and a.name[1] != "_"]
            modules = [node.module, *(f"{node.module}.{name}" for name in names)]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            foreign = len(parts) > 2 and parts[0] == "chanx" and parts[1] != own
            if foreign and any(part.startswith("_") for part in parts[2:]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    return found


@pytest.mark.parametrize("pkg", PACKAGES)
def test_no_private_module_of_another_chanx_package(pkg: str) -> None:
    # What one chanx package needs from another is public (DESIGN §1): a private module
    # may change in any release, and third-party adapters cannot rely on it either.
    sources = sorted((ROOT / f"packages/chanx-{pkg}/src/chanx/{pkg}").rglob("*.py"))
    offenders = [hit for path in sources for hit in _private_imports(path, pkg)]
    assert offenders == [], "import the public name instead:\n" + "\n".join(offenders)
