"""Real server processes for the deployment tests: started in their own process group,
waited for by port, always stopped (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.guides.markdown import blocks

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = ROOT / "docs" / "deployment.md"
START_TIMEOUT = 30.0
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def page_file(name: str) -> str:
    """The code of docs/deployment.md's `<!-- file: name -->` block: the tests run the docs."""
    for block in blocks(DEPLOYMENT):
        if block.marker == ("file", name):
            return block.code
    raise LookupError(f"docs/deployment.md has no <!-- file: {name} --> block")


def page_block(lang: str) -> str:
    """The code of docs/deployment.md's only ``lang`` block."""
    (code,) = [block.code for block in blocks(DEPLOYMENT) if block.lang == lang]
    return code


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tool(name: str) -> str:
    """A program of this environment's (or the machine's); skip locally, fail under CI."""
    path = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin"]))
    path = path or shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed; CI=true requires it", pytrace=False)
        pytest.skip(f"{name} is not installed")
    return path


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, started: tuple[str, int] | None
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if started is None or log.read_text().count(started[0]) >= started[1]:
                    return
        except OSError:
            pass
        time.sleep(0.1)  # polling a child process's port and log: there is no event to wait on
    raise AssertionError(f"nothing listened on {port} after {START_TIMEOUT} s:\n{log.read_text()}")


@contextmanager
def served(
    args: Sequence[str],
    *,
    port: int,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    started: tuple[str, int] | None = None,
    logs: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends; return once something listens on ``port`` (and,
    with ``started=(line, n)``, the output holds ``line`` n times: every worker is up)."""
    log = (logs or cwd) / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log, started)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


async def next_action(client: ClientConnection, action: str) -> Any:
    """The payload of the next frame with ``action`` (other frames are skipped)."""
    for _ in range(50):
        frame = json.loads(await client.recv())
        if frame.get("action") == action:
            return frame.get("payload")
    raise AssertionError(f"no {action!r} frame in 50 frames")
