"""Read a guide's Markdown into the steps a new user follows, in page order.

A fenced block becomes a step through the HTML comment right above it:

    <!-- guide: install -->            ```bash  every `pip install ...` line, run as written
    <!-- file: main.py -->             any block: write it to main.py (created or replaced)
    <!-- file: main.py (append) -->    any block: append it to main.py
    <!-- file: x.py (not-run: why) --> written here; only compiled by the in-process test
    <!-- guide: shell -->              ```bash  each command, in the project directory
    <!-- guide: serve /ws/path?q -->   ```bash  one command that serves the app; the runner
                                       picks a free port, then does a ping/pong on /ws/path
    <!-- guide: aside -->              not part of the project (the in-process test runs it)
    <!-- not-run: reason -->           skipped (also by tests/examples/test_docs_snippets.py)

A Python block with no marker is an error: on a guide page every block says where it goes.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Block", "Step", "StepKind", "blocks", "commands", "guide_steps"]

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
MARKER = re.compile(r"<!--\s*(?P<kind>guide|file|not-run)\b:?\s*(?P<arg>[^>]*?)\s*-->\s*$")

FILE_OPTIONS = re.compile(r"\((?:append|not-run\b[^)]*)\)")

StepKind = Literal["install", "file", "append", "shell", "serve"]


@dataclass(frozen=True)
class Block:
    """A fenced code block and the marker comment right above it, if any."""

    page: Path
    line: int  # 1-based line of the block's first code line
    lang: str
    code: str
    marker: tuple[str, str] | None  # (kind, argument), e.g. ("file", "main.py (append)")

    @property
    def where(self) -> str:
        """``page:line``, for error messages."""
        return f"{self.page.name}:{self.line}"


@dataclass(frozen=True)
class Step:
    """One thing a reader does: install, write a file, run commands or serve the app."""

    kind: StepKind
    block: Block
    target: str = ""  # the file path (file/append) or the WebSocket path (serve)


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page`` with its marker."""
    text = page.read_text(encoding="utf-8")
    found: list[Block] = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("body")) + 1
        indent = match.group("indent")
        code = "".join(
            row.removeprefix(indent) for row in match.group("body").splitlines(keepends=True)
        )
        last_line = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        marker = MARKER.search(last_line)
        kind_arg = (marker.group("kind"), marker.group("arg")) if marker else None
        found.append(Block(page, line, match.group("lang").lower(), code, kind_arg))
    return found


def commands(block: Block) -> list[list[str]]:
    """The shell commands of a bash block, split into words; comments and blanks dropped."""
    result = []
    for row in block.code.splitlines():
        words = shlex.split(row, comments=True)
        if words:
            result.append(words)
    return result


def _step(block: Block) -> Step | None:
    if block.marker is None:
        if block.lang in {"python", "py"}:
            raise ValueError(f"{block.where}: a Python block without a guide marker")
        return None
    kind, arg = block.marker
    if kind == "not-run":
        return None
    if kind == "file":
        path, _, options = arg.partition(" ")
        # "(not-run: reason)" only keeps tests/examples/test_docs_snippets.py from running it.
        rest = FILE_OPTIONS.sub("", options).strip()
        if rest or not path:
            raise ValueError(
                f"{block.where}: expected `file: PATH [(append)] [(not-run: why)]`, got {arg!r}"
            )
        return Step("append" if "(append)" in options else "file", block, path)
    word, _, rest = arg.partition(" ")
    if word in {"install", "shell", "serve"} and block.lang not in {"bash", "sh", "console"}:
        raise ValueError(f"{block.where}: a `guide: {word}` marker needs a bash block")
    if word == "install":
        for words in commands(block):
            if words[:2] != ["pip", "install"]:
                raise ValueError(f"{block.where}: an install block runs `pip install` only")
        return Step("install", block)
    if word == "aside":
        return None
    if word == "shell":
        return Step("shell", block)
    if word == "serve":
        if not rest.startswith("/") or len(commands(block)) != 1:
            raise ValueError(f"{block.where}: expected `guide: serve /ws/path` over one command")
        return Step("serve", block, rest)
    raise ValueError(f"{block.where}: unknown guide marker {arg!r}")


def guide_steps(page: Path) -> list[Step]:
    """The steps of a guide page, in order; raises ValueError on a malformed marker."""
    steps = [step for block in blocks(page) if (step := _step(block)) is not None]
    if not any(step.kind == "install" for step in steps):
        raise ValueError(f"{page.name}: no `<!-- guide: install -->` block")
    return steps
