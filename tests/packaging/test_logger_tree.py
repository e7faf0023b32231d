"""Every logger in the packages belongs to the one documented ``chanx.*`` tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GET_LOGGER = re.compile(r"getLogger\(([^)]*)\)")
# The tree, as docs/production.md and docs/deployment.md ("Logging") document it.
TREE = {
    "chanx.adapters",
    "chanx.consumer",
    "chanx.layers",
    "chanx.layers.memory",
    "chanx.rabbitmq",
    "chanx.redis",
}


def _loggers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for source in sorted(ROOT.glob("packages/*/src/chanx/**/*.py")):
        for argument in GET_LOGGER.findall(source.read_text()):
            found.setdefault(argument.strip(), set()).add(str(source.relative_to(ROOT)))
    return found


def test_every_logger_is_in_the_documented_tree() -> None:
    names = {argument.strip("\"'"): files for argument, files in _loggers().items()}
    strays = {name: sorted(files) for name, files in names.items() if name not in TREE}
    assert strays == {}, f"loggers outside the documented chanx.* tree: {strays}"


@pytest.mark.parametrize("page", ["production.md", "deployment.md"])
def test_the_tree_is_documented(page: str) -> None:
    text = (ROOT / "docs" / page).read_text()
    section = text.split("## Logging", 1)[1].split("\n## ", 1)[0]
    assert sorted(n for n in TREE if f"`{n}`" not in section) == [], f"docs/{page}"
