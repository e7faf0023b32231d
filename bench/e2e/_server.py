"""Start one target under uvicorn on a pinned core, and always stop it again."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _targets import APPS_DIR, Target, venv_python

SITE_DIR = Path(__file__).resolve().parent / "_site"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def target_env(target: Target, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(
        BENCH_LAYER=target.layer if target.layer in {"memory", "redis"} else "memory",
        BENCH_REDIS_URL=REDIS_URL,
        BENCH_REDIS_PREFIX=prefix,
        PYTHONDONTWRITEBYTECODE="1",
        **target.env,
    )
    # The SIGUSR1 hook of bench/e2e/_site/sitecustomize.py, ahead of a target's own path.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE_DIR), env.get("PYTHONPATH")]))
    return env


def import_check(target: Target, timeout: float = 90.0) -> str | None:
    """Return why the target's app cannot be imported, or None when it can."""
    python = venv_python(target.venv)
    if not python.exists():
        return f"virtual environment missing: {python}"
    code = f"import sys; sys.path.insert(0, {str(APPS_DIR)!r}); import {target.module}"
    try:
        proc = subprocess.run(
            [str(python), "-c", code],
            env=target_env(target, "benchcheck"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"importing {target.module} took more than {timeout:.0f}s"
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"import failed with exit code {proc.returncode}"


@dataclass
class Server:
    pid: int
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not listening on port {port} after {timeout:.0f}s")


def cleanup_redis(prefix: str) -> None:
    """Drop the keys a Redis-backed run left behind (groups outlive the server)."""
    try:
        keys = subprocess.run(
            ["redis-cli", "--scan", "--pattern", f"{prefix}*"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.split()
        for start in range(0, len(keys), 500):
            subprocess.run(
                ["redis-cli", "del", *keys[start : start + 500]],
                capture_output=True,
                timeout=30,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired):
        pass


@contextmanager
def running_server(target: Target, *, core: str = "0", log_dir: Path) -> Iterator[Server]:
    port = free_port()
    prefix = f"bench{uuid.uuid4().hex[:10]}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.mkstemp(prefix=f"{target.name}-", suffix=".log", dir=log_dir)[1])
    cmd = [
        "taskset", "-c", core, str(venv_python(target.venv)), "-m", "uvicorn",
        f"{target.module}:app", "--app-dir", str(APPS_DIR),
        "--host", "127.0.0.1", "--port", str(port),
        "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=target_env(target, prefix), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=raise_fd_limit,
        )  # fmt: skip
        try:
            wait_listening(proc, port, timeout=60)
            yield Server(pid=proc.pid, port=port, log=log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if target.uses_redis:
                cleanup_redis(prefix)


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
