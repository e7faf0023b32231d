"""Text that was wrong once stays fixed: each check names what was seen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGE_READMES = sorted(ROOT.glob("packages/*/README.md"))
EXAMPLE_READMES = sorted(ROOT.glob("examples/*/README.md"))
MARKDOWN_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_no_page_says_the_redis_layer_is_still_being_built() -> None:
    for page in DOCS:
        assert "still being built" not in read(page), page.name


def test_the_readme_does_not_call_django_support_later() -> None:
    assert not re.search(r"\(later\)\s*Django", read(ROOT / "README.md"))


@pytest.mark.parametrize("readme", EXAMPLE_READMES, ids=lambda p: p.parent.name)
def test_example_readmes_run_uv_as_a_module(readme: Path) -> None:
    # `uv run` fails where pip put uv's script outside PATH; `python3 -m uv run` works.
    bare = [line for line in read(readme).splitlines() if re.search(r"(?<!-m )\buv run\b", line)]
    assert bare == [], f"{readme.relative_to(ROOT)} runs a bare `uv run`: {bare}"


def test_the_readme_names_the_demo_port_settings() -> None:
    readme = read(ROOT / "README.md")
    assert "CHANX_DEMO_PORT" in readme
    assert "CHANX_DEMO_HOST" in readme


@pytest.mark.parametrize("readme", PACKAGE_READMES, ids=lambda p: p.parent.name)
def test_package_readmes_have_no_relative_links(readme: Path) -> None:
    # PyPI shows the README alone: a link such as ../../README.md leads nowhere there.
    relative = [
        m["target"]
        for m in MARKDOWN_LINK.finditer(read(readme))
        if not m["target"].startswith(("https://", "http://", "#"))
    ]
    assert relative == [], f"{readme.relative_to(ROOT)} links {relative}"


def test_docs_do_not_reach_into_private_route_tables() -> None:
    for page in DOCS:
        assert "_ws_routes" not in read(page), page.name
        assert "_event_routes" not in read(page), page.name


CODE_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_consumers_that_broadcast_declare_emits(page: Path) -> None:
    # Seen: the FastAPI guide's consumer broadcast a message its `emits` did not list, so
    # the AsyncAPI document left out the main server-to-client message.
    for block in CODE_BLOCK.finditer(read(page)):
        code = block["code"]
        if "class " in code and "self.broadcast_message(" in code:
            assert "emits = [" in code, f"{page.name}: a consumer broadcasts without emits"


PYTEST_INI = re.compile(r"```ini\n(\[pytest\]\n.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_pytest_configs_in_the_docs_set_the_fixture_loop_scope(page: Path) -> None:
    # pytest-asyncio warns on every run whose config sets asyncio_mode but not this key.
    for config in PYTEST_INI.findall(read(page)):
        if "asyncio_mode" in config:
            assert "asyncio_default_fixture_loop_scope = function" in config, page.name
