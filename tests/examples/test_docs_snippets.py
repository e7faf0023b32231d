"""The documentation's code runs: every Python block of README.md and docs/*.md.

Each page's ```python blocks run top to bottom, as a reader would paste them, in one fresh
module per page; a block under ``<!-- file: main.py -->`` (or ``(append)``) runs in the
module ``main`` instead, so a later block's ``from main import app`` finds it, as in the
files the guide lays out. Then every ``test_*`` function the page defines is run, except
those taking pytest fixtures (``nox -s guides`` runs them with pytest). ```json
blocks must parse. A block right after ``<!-- not-run: reason -->`` is only compiled.
``nox -s guides`` (tests/guides/runner.py) follows the same pages outside the repository.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from chanx.core import register_channel_layer
from chanx.core.layers import InMemoryChannelLayer, unregister_channel_layer

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
NOT_RUN = re.compile(r"<!--\s*not-run\b[^>]*-->\s*$")
FILE = re.compile(r"<!--\s*file:\s*(?P<path>\S+)[^>]*-->\s*$")
TEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the block's first code line
    lang: str
    code: str
    run: bool
    module: str | None = None  # "main" for a block under <!-- file: main.py -->

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> Iterator[Block]:
    text = page.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("body")) + 1
        before = text[: match.start()].rstrip()
        indent = match.group("indent")
        code = "".join(
            row.removeprefix(indent) for row in match.group("body").splitlines(keepends=True)
        )
        file = FILE.search(before)
        run = NOT_RUN.search(before) is None and (file is None or "(not-run" not in file[0])
        module = None
        if file is not None and file.group("path").endswith(".py"):
            module = file.group("path").removesuffix(".py").replace("/", ".")
        yield Block(page, line, match.group("lang").lower(), code, run, module)


def compile_block(block: Block) -> types.CodeType:
    # Padding keeps line numbers in tracebacks equal to the lines of the Markdown file.
    return compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")


@pytest.fixture
def fresh_layer() -> Iterator[None]:
    register_channel_layer("default", InMemoryChannelLayer())
    yield
    unregister_channel_layer("default")


def test_every_page_is_checked() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "index.md", "concepts.md", "fastapi.md"} <= names


def _module(name: str, page: Path, created: list[str]) -> types.ModuleType:
    """The module ``name`` for this page, created (with parent packages) on first use."""
    if name in created:
        return sys.modules[name]
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        dotted = ".".join(parts[:depth])
        if dotted in created:
            continue
        assert dotted not in sys.modules, f"{page.name}: a guide file shadows module {dotted!r}"
        module = types.ModuleType(dotted)
        module.__file__ = str(page)
        if depth < len(parts):
            module.__path__ = []
        sys.modules[dotted] = module  # pydantic and typing look classes up by module
        created.append(dotted)
    return sys.modules[name]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
async def test_page_code_runs(page: Path, fresh_layer: None) -> None:
    created: list[str] = []
    page_module = _module(f"docs_snippet_{page.stem}", page, created)
    try:
        for block in blocks(page):
            if block.lang == "json" and block.run:
                try:
                    json.loads(block.code)
                except ValueError as exc:
                    pytest.fail(f"{block.where}: invalid JSON block: {exc}")
            elif block.lang in {"python", "py"}:
                code = compile_block(block)
                if block.run:
                    module = (
                        page_module
                        if block.module is None
                        else _module(block.module, page, created)
                    )
                    exec(code, module.__dict__)
        tests = [
            func
            for name in created
            for attribute, func in vars(sys.modules[name]).items()
            if attribute.startswith("test_")
            and inspect.isfunction(func)
            # A test that takes pytest fixtures runs under real pytest, in nox -s guides.
            and not inspect.signature(func).parameters
        ]
        for func in tests:
            with anyio.fail_after(TEST_TIMEOUT):
                result = func()
                if inspect.isawaitable(result):
                    await result
    finally:
        for name in created:
            del sys.modules[name]
