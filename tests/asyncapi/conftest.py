"""The official AsyncAPI parser, run through node, for every document the tests produce.

The parser is pinned in ``node/package-lock.json``; ``npm ci`` installs it on first use.
Without node/npm the validation tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.conftest import IN_CI

NODE_DIR = Path(__file__).parent / "node"
VALIDATOR = Path(str(files("chanx.core.asyncapi") / "_validate.cjs"))
NPM_TIMEOUT = 300
PARSE_TIMEOUT = 60


def missing(reason: str) -> NoReturn:
    """Skip locally, fail under CI=true."""
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


def ensure_parser_installed() -> Path:
    """``node_modules`` of the pinned parser, installed with ``npm ci`` when absent."""
    node_modules = NODE_DIR / "node_modules"
    if (node_modules / "@asyncapi" / "parser" / "package.json").is_file():
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        missing("npm is not installed, so the AsyncAPI parser cannot be installed")
    try:
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=NPM_TIMEOUT,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        output = getattr(exc, "stderr", b"") or b""
        missing(f"npm ci in {NODE_DIR} failed: {exc}\n{output.decode(errors='replace')}")
    return node_modules


class AsyncAPIParser:
    """One long-lived node process parsing one document per line."""

    def __init__(self, node: str, node_modules: Path) -> None:
        env = {**os.environ, "NODE_PATH": str(node_modules)}
        self.process = subprocess.Popen(
            [node, str(VALIDATOR), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def parse(self, document: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(document) + "\n")
        self.process.stdin.flush()
        line = self.lines.get(timeout=PARSE_TIMEOUT)
        if not line:
            raise RuntimeError(f"the parser process exited with {self.process.wait(5)}")
        result: dict[str, Any] = json.loads(line)
        return result

    def problems(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Errors and warnings (info and hints, such as "3.1.0 exists", are not problems)."""
        result = self.parse(document)
        found = [d for d in result["diagnostics"] if d["severity"] in {"error", "warning"}]
        if not result["parsed"] and not found:
            found.append({"severity": "error", "message": "the document was not parsed"})
        return found

    def assert_valid(self, document: dict[str, Any]) -> None:
        problems = self.problems(document)
        assert problems == [], json.dumps(problems, indent=2)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def parser_node_modules() -> Path:
    """``node_modules`` holding the pinned ``@asyncapi/parser`` (skips/fails without node)."""
    if shutil.which("node") is None:
        missing("node is not installed, so the official AsyncAPI parser cannot run")
    return ensure_parser_installed()


@pytest.fixture(scope="session")
def asyncapi_parser(parser_node_modules: Path) -> Iterator[AsyncAPIParser]:
    node = shutil.which("node")
    assert node is not None
    parser = AsyncAPIParser(node, parser_node_modules)
    yield parser
    parser.close()
