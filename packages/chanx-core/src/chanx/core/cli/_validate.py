"""Running the official AsyncAPI parser (``@asyncapi/parser``, npm) through node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

__all__ = ["PARSER_VERSION", "ParserMissingError", "ValidationResult", "find_parser", "run_parser"]

PARSER_VERSION = "3.6.6"
ENV_VARIABLE = "CHANX_ASYNCAPI_PARSER_PATH"
DEFAULT_PREFIX = Path("~/.cache/chanx/asyncapi-parser")
TIMEOUT = 120


class ParserMissingError(Exception):
    """node or the parser package is not installed; the message says how to install it."""


@dataclass(frozen=True, slots=True)
class ValidationResult:
    parsed: bool
    diagnostics: list[dict[str, Any]]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [d for d in self.diagnostics if d.get("severity") == "error"]

    @property
    def valid(self) -> bool:
        return self.parsed and not self.errors


def _has_parser(node_modules: Path) -> bool:
    return (node_modules / "@asyncapi" / "parser" / "package.json").is_file()


def _install_hint() -> str:
    return (
        "the official AsyncAPI parser is not installed. Install it once with:\n"
        f"    npm install --prefix {DEFAULT_PREFIX} @asyncapi/parser@{PARSER_VERSION}\n"
        f"or point --parser-path (or {ENV_VARIABLE}) at a node_modules directory holding it"
    )


def find_parser(parser_path: Path | None = None) -> tuple[str, Path]:
    """``node`` and the ``node_modules`` directory holding ``@asyncapi/parser``.

    Raises:
        ParserMissingError: With what to install.
    """
    node = shutil.which("node")
    if node is None:
        raise ParserMissingError(
            "node is not installed (https://nodejs.org); chanx validate runs the official "
            "AsyncAPI parser, which is a JavaScript package"
        )
    if parser_path is not None:
        if not _has_parser(parser_path):
            inner = parser_path / "node_modules"
            if _has_parser(inner):  # the npm --prefix directory instead of its node_modules
                raise ParserMissingError(
                    f"{parser_path} holds no @asyncapi/parser, but {inner} does: pass "
                    f"--parser-path {inner}"
                )
            raise ParserMissingError(f"{parser_path} holds no @asyncapi/parser; " + _install_hint())
        return node, parser_path
    candidates = [Path(os.environ[ENV_VARIABLE])] if os.environ.get(ENV_VARIABLE) else []
    candidates += [Path.cwd() / "node_modules", DEFAULT_PREFIX.expanduser() / "node_modules"]
    npm = shutil.which("npm")
    if npm is not None:
        try:
            root = subprocess.run(
                [npm, "root", "-g"], capture_output=True, text=True, timeout=30, check=True
            )
            candidates.append(Path(root.stdout.strip()))
        except (subprocess.SubprocessError, OSError):
            pass
    for candidate in candidates:
        if _has_parser(candidate):
            return node, candidate
    raise ParserMissingError(_install_hint())


def run_parser(path: Path, *, parser_path: Path | None = None) -> ValidationResult:
    """Parse the AsyncAPI file at ``path`` (JSON or YAML) with the official parser."""
    node, node_modules = find_parser(parser_path)
    script = Path(str(files("chanx.core.asyncapi") / "_validate.cjs"))
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    done = subprocess.run(
        [node, str(script), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode not in (0, 1) or not lines:
        raise RuntimeError(f"the parser failed (exit {done.returncode}): {done.stderr.strip()}")
    result = json.loads(lines[-1])
    return ValidationResult(bool(result["parsed"]), list(result["diagnostics"]))
