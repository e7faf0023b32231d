"""Follow each guide as a new user would, outside the repository (``nox -s guides``).

For every page: build the wheels once, create a fresh virtual environment in a temporary
directory, install exactly what the page's install block says (``uv pip install`` with the
wheels as ``--find-links``, so the unreleased chanx packages resolve locally and everything
else comes from PyPI), write the page's code blocks to files where the page puts them, run
its commands (its tests among them), serve the app and do a ping/pong over a real socket.
The steps come from marker comments in the Markdown (see tests/guides/markdown.py).

    python -m tests.guides.runner                  # every guide
    python -m tests.guides.runner docs/fastapi.md  # one
    python -m tests.guides.runner --keep ...       # keep the directories to look at them
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.guides.markdown import Step, commands, guide_steps

__all__ = ["GUIDES", "GuideError", "Workspace", "main", "run_guide", "server_command"]

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [
    "README.md",
    "docs/fastapi.md",
    "docs/django.md",
    "docs/testing.md",
    "docs/asyncapi.md",
    "docs/deployment.md",
]
# Pages whose servers need the machine's Redis at 127.0.0.1:6379 (CI has it; a laptop may not).
NEEDS_REDIS = {"docs/deployment.md"}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
COMMAND_TIMEOUT = 600.0  # an install on a cold cache
SERVER_START_TIMEOUT = 30.0
EXCHANGE_TIMEOUT = 10.0
OUTPUT_TAIL = 4000


class GuideError(Exception):
    """A step of a guide failed: which line of which page, and what it printed."""


@dataclass(frozen=True)
class Workspace:
    """Where one guide runs: its project directory, its virtualenv and the built wheels."""

    project: Path
    venv: Path
    wheels: Path
    constraints: Path
    exported: dict[str, str] = field(default_factory=dict)  # a guide's `export NAME=value`

    @property
    def bin(self) -> Path:
        """The virtualenv's scripts directory."""
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    def env(self) -> dict[str, str]:
        """The environment of a shell with the guide's virtualenv activated, and nothing else."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "UV_PROJECT"))}
        for key in ("VIRTUAL_ENV", "UV_LOCKED", "CONDA_PREFIX", "DJANGO_SETTINGS_MODULE"):
            env.pop(key, None)
        # Drop the runner's own environment from PATH, so a tool the guide forgot to
        # install is missing instead of borrowed.
        own = Path(sys.prefix).resolve()
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and not _inside(p, own)]
        env["PATH"] = os.pathsep.join([str(self.bin), *path])
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(self.exported)
        return env


def _inside(path: str, parent: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(parent)
    except OSError:
        return False


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise GuideError("uv is not on PATH and UV is unset: run this through `uv run nox`")
    return uv


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_TAIL else "...\n" + text[-OUTPUT_TAIL:]


def _run(args: Sequence[str], *, cwd: Path, env: dict[str, str] | None, where: str) -> None:
    print(f"  $ {' '.join(args)}", flush=True)
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GuideError(f"{where}: `{' '.join(args)}` failed: {exc}") from exc
    if result.returncode != 0:
        output = _tail(result.stdout + result.stderr)
        raise GuideError(f"{where}: `{' '.join(args)}` exited with {result.returncode}:\n{output}")


def build_wheels(out: Path) -> Path:
    """Build every workspace package's wheel into ``out``; return a constraints file."""
    _run(
        [_uv(), "build", "--all-packages", "--wheel", "--out-dir", str(out), "--no-progress"],
        cwd=ROOT,
        env=None,
        where="uv build",
    )
    pins = []
    for wheel in sorted(out.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        pins.append(f"{name.replace('_', '-')}=={version}\n")
    constraints = out / "constraints.txt"
    # The local builds win over anything of the same name on PyPI.
    constraints.write_text("".join(pins), encoding="utf-8")
    return constraints


def server_command(words: list[str], port: int) -> list[str]:
    """The guide's serve command, told to listen on 127.0.0.1:``port``."""
    program = Path(words[0]).name
    if program == "uvicorn":
        return [*words, "--host", "127.0.0.1", "--port", str(port)]
    if program == "daphne":
        return [words[0], "-b", "127.0.0.1", "-p", str(port), *words[1:]]
    if program == "gunicorn":
        return [*words, "-b", f"127.0.0.1:{port}"]
    raise GuideError(f"the runner does not know how to give {program!r} a port: {words}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], where: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise GuideError(f"{where}: the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)  # polling a child process's port: there is no event to wait on
    raise GuideError(f"{where}: nothing listened on port {port} after {SERVER_START_TIMEOUT} s")


async def ping_pong(url: str, origin: str) -> dict[str, object]:
    """Connect, send a ping with a ref, and return the pong (frames before it are skipped)."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async with asyncio.timeout(EXCHANGE_TIMEOUT), connect(url, origin=Origin(origin)) as client:
        await client.send(json.dumps({"action": "ping", "ref": "guide"}))
        for _ in range(10):
            frame = json.loads(await client.recv())
            if isinstance(frame, dict) and frame.get("action") == "pong":
                return frame
    raise GuideError(f"no pong from {url} in its first 10 frames")


@contextmanager
def _serving(step: Step, ws: Workspace, port: int) -> Iterator[None]:
    (words,) = commands(step.block)
    log = ws.project.parent / "server.log"
    args = server_command(words, port)
    print(f"  $ {' '.join(args)} &", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            args,
            cwd=ws.project,
            env=ws.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with everything it started
        )
    try:
        try:
            _wait_for_port(port, process, step.block.where)
            yield
        except GuideError as exc:
            raise GuideError(f"{exc}\nserver output:\n{_tail(log.read_text())}") from exc
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _serve(step: Step, ws: Workspace) -> None:
    port = _free_port()
    with _serving(step, ws, port):
        url = f"ws://127.0.0.1:{port}{step.target}"
        try:
            pong = asyncio.run(ping_pong(url, origin=f"http://127.0.0.1:{port}"))
        except Exception as exc:
            raise GuideError(f"{step.block.where}: ping/pong on {url} failed: {exc!r}") from exc
        if pong.get("ref") != "guide":
            raise GuideError(f"{step.block.where}: the pong lost its ref: {pong}")
        print(f"  ping/pong on {url}: {json.dumps(pong)}", flush=True)


def _install(step: Step, ws: Workspace) -> None:
    for words in commands(step.block):
        _run(
            [
                _uv(),
                "pip",
                "install",
                "--python",
                str(ws.bin / "python"),
                "--find-links",
                str(ws.wheels),
                "--constraint",
                str(ws.constraints),
                "--no-progress",
                *words[2:],
            ],
            cwd=ws.project,
            env=None,
            where=step.block.where,
        )


def _shell(step: Step, ws: Workspace) -> None:
    env = ws.env()
    for words in commands(step.block):
        if words[0] == "export":  # lasts for the rest of the guide, as in the reader's shell
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                ws.exported[name] = value
                env[name] = value
            continue
        program = shutil.which(words[0], path=env["PATH"])
        if program is None:
            raise GuideError(f"{step.block.where}: `{words[0]}` is not installed by the guide")
        # A guide's tests pass with no warning, or its reader's first run prints one (such as
        # pytest-asyncio's about an unset asyncio_default_fixture_loop_scope): fail on it.
        strict = {"PYTEST_ADDOPTS": "-W error"} if words[0] == "pytest" else {}
        _run([program, *words[1:]], cwd=ws.project, env=env | strict, where=step.block.where)


def _write(step: Step, ws: Workspace) -> None:
    path = ws.project / step.target
    path.parent.mkdir(parents=True, exist_ok=True)
    if step.kind == "append":
        if not path.exists():
            raise GuideError(f"{step.block.where}: appends to {step.target}, which is not there")
        existing = path.read_text(encoding="utf-8")
        path.write_text(existing.rstrip("\n") + "\n\n\n" + step.block.code, encoding="utf-8")
    else:
        path.write_text(step.block.code, encoding="utf-8")
    print(f"  {'>>' if step.kind == 'append' else '> '} {step.target}", flush=True)


def run_guide(page: Path, directory: Path, wheels: Path, constraints: Path) -> None:
    """Follow ``page`` in ``directory`` (project/ and venv/ are created there)."""
    try:
        steps = guide_steps(page)
    except ValueError as exc:
        raise GuideError(str(exc)) from exc
    ws = Workspace(directory / "project", directory / "venv", wheels, constraints)
    ws.project.mkdir(parents=True)
    _run(
        [_uv(), "venv", "--quiet", "--python", sys.executable, str(ws.venv)],
        cwd=directory,
        env=None,
        where=page.name,
    )
    actions = {"install": _install, "file": _write, "append": _write, "shell": _shell}
    for step in steps:
        if step.kind == "serve":
            _serve(step, ws)
        else:
            actions[step.kind](step, ws)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the guides; print each failure; exit status 1 if any failed."""
    parser = argparse.ArgumentParser(prog="python -m tests.guides.runner")
    parser.add_argument("pages", nargs="*", default=GUIDES, help="Markdown pages (from the root)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    options = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="chanx-guides-"))
    failed: list[str] = []
    try:
        started = time.monotonic()
        constraints = build_wheels(base / "wheels")
        for name in options.pages:
            page = (ROOT / name).resolve()
            print(f"\n=== {name}", flush=True)
            if name in NEEDS_REDIS and not IN_CI and not _redis_reachable():
                print(f"skipped {name}: no Redis at 127.0.0.1:6379 (CI=true requires it)")
                continue
            began = time.monotonic()
            try:
                run_guide(page, base / page.stem, base / "wheels", constraints)
            except GuideError as exc:
                failed.append(name)
                print(f"FAILED {name}:\n{exc}", flush=True)
            else:
                print(f"ok {name} ({time.monotonic() - began:.0f} s)", flush=True)
        print(
            f"\n{len(options.pages) - len(failed)} of {len(options.pages)} guides passed "
            f"in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    finally:
        if options.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
