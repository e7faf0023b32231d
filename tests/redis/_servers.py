"""Private redis-server processes for fault, Cluster and Sentinel tests (bounded, always killed)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str) -> str:
    """Path of ``name``; skip locally, fail under CI, when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return path


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A free port; with ``cluster_bus`` also port + 10000 (Redis Cluster's bus) is free."""
    if not cluster_bus:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(200):
        port = random.randint(20000, 50000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def cli(port: int, *args: str, timeout: float = 10) -> str:
    result = subprocess.run(
        [require_binary("redis-cli"), "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.stdout.strip()


def wait_until(predicate: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


class RedisProcess:
    """One redis-server on a private port; ``start`` again after ``kill`` reuses the port."""

    def __init__(self, port: int, workdir: Path, extra: Sequence[str] = ()) -> None:
        self.port = port
        self.workdir = workdir
        self.extra = list(extra)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            require_binary("redis-server"),
            *self.extra,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir
        )
        wait_until(
            lambda: cli(self.port, "ping", timeout=2) == "PONG",
            timeout=10,
            what=f"redis-server on port {self.port} answering",
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class SentinelProcess:
    """One Redis Sentinel on a private port, watching ``master_port`` as ``chanxmaster``."""

    def __init__(self, workdir: Path, master_port: int, *, down_after_ms: int) -> None:
        self.port = free_port()
        self.config = workdir / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\n"
            f"sentinel monitor chanxmaster 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds chanxmaster {down_after_ms}\n"
            "sentinel failover-timeout chanxmaster 10000\n"
        )
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.port}/chanxmaster"

    def master_port(self) -> int | None:
        reply = cli(self.port, "sentinel", "get-master-addr-by-name", "chanxmaster", timeout=2)
        lines = reply.split()
        return int(lines[1]) if len(lines) == 2 and lines[1].isdigit() else None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [require_binary("redis-server"), str(self.config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        wait_until(
            lambda: self.master_port() is not None,
            timeout=20,
            what="the sentinel knowing its master",
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
