"""docs/deployment.md's app under several workers on the Redis layer: a client served by one
worker process reaches a client served by another, under uvicorn --workers and gunicorn."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from ._servers import free_port, next_action, page_file, served, tool

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(120)]

CONNECT_BATCHES = 30  # the kernel picks the worker: keep connecting until two have answered
BATCH = 10


async def clients_on_two_workers(
    stack: AsyncExitStack, url: str
) -> tuple[tuple[int, ClientConnection], tuple[int, ClientConnection]]:
    """Two open sockets to ``url`` served by different worker processes.

    Which worker accepts is the kernel's choice; on a loaded 2-core machine the worker that
    is already running can take 40 handshakes in a row (seen once in CI), so this keeps
    trying, batch after batch, and closes the sockets it does not need as it goes.
    """
    seen: dict[int, ClientConnection] = {}
    for _ in range(CONNECT_BATCHES):
        # Handshakes at the same moment, so that a worker busy with one leaves the next to
        # the other (one at a time, the worker that woke first may take them all).
        batch = await asyncio.gather(*(connect(url) for _ in range(BATCH)))
        for client in batch:
            worker = await next_action(client, "hello")
            if worker in seen:
                await client.close()
            else:
                seen[worker] = client
                stack.push_async_callback(client.close)
        if len(seen) == 2:
            (a, b) = seen.items()
            return a, b
    raise AssertionError(
        f"{CONNECT_BATCHES * BATCH} sockets all landed on worker(s) {sorted(seen)}"
    )


async def exchange_across_workers(port: int) -> None:
    room = secrets.token_hex(4)
    url = f"ws://127.0.0.1:{port}/ws/rooms/{room}"
    async with asyncio.timeout(60), AsyncExitStack() as stack:
        (worker_a, a), (worker_b, b) = await clients_on_two_workers(stack, url)
        assert worker_a != worker_b
        for sender, worker, receiver, text in (
            (a, worker_a, b, "from a"),
            (b, worker_b, a, "from b"),
        ):
            await sender.send(f'{{"action": "say", "payload": "{text}"}}')
            line = await next_action(receiver, "said")
            while line["text"] != text:  # a's own earlier line reaches a too
                line = await next_action(receiver, "said")
            assert line == {"worker": worker, "text": text}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["ok"] is True


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(page_file("app.py"), encoding="utf-8")
    return tmp_path


def _env(redis_url: str) -> dict[str, str]:
    return {"CHANX_LAYER_URL": redis_url, "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            ["uvicorn", "app:app", "--workers", "2", "--ws", "websockets-sansio"], id="uvicorn"
        ),
        pytest.param(
            ["gunicorn", "app:app", "-k", "uvicorn_worker.UvicornWorker", "-w", "2"], id="gunicorn"
        ),
    ],
)
async def test_clients_on_different_workers_reach_each_other(
    project: Path, redis_url: str, command: Sequence[str]
) -> None:
    port = free_port()
    program, *rest = command
    where = (
        ["--host", "127.0.0.1", "--port", str(port)]
        if program == "uvicorn"
        else ["-b", f"127.0.0.1:{port}"]
    )
    args = [tool(program), *rest, *where]
    up = ("Application startup complete", 2)  # both workers, not just the listening socket
    with served(args, port=port, cwd=project, env=_env(redis_url), started=up):
        await exchange_across_workers(port)


async def test_readiness_fails_while_the_layer_is_unreachable(project: Path) -> None:
    port = free_port()
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    args = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    with served(args, port=port, cwd=project, env=_env(dead)):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            ready = await http.get("/health/ready")
            live = await http.get("/health/live")
    assert ready.status_code == 503
    assert ready.json()["ok"] is False
    assert live.status_code == 200
