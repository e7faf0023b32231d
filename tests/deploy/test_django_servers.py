"""The Django example project (examples/django_chat) served by daphne and by uvicorn, as
docs/deployment.md says: log in over HTTP, then a ping/pong over the session's socket."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Origin

from ._servers import ROOT, free_port, next_action, served, tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PROJECT = ROOT / "examples" / "django_chat"


async def log_in(base: str) -> str:
    """The ``sessionid`` of alice, logged in through the login form."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        form = await http.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None, form.text
        data = {"username": "alice", "password": "chanx-demo", "csrfmiddlewaretoken": token[1]}
        done = await http.post("/login/", data=data, headers={"Referer": f"{base}/login/"})
        assert done.status_code == 302, done.text
        return str(http.cookies["sessionid"])


@pytest.fixture
def project_env(tmp_path: Path) -> dict[str, str]:
    """The example's settings on a fresh database with the demo users (``rundemo --setup-only``)."""
    env = {"DJANGO_SETTINGS_MODULE": "djchat.settings", "DJCHAT_DB": str(tmp_path / "db.sqlite3")}
    subprocess.run(
        [sys.executable, "manage.py", "rundemo", "--setup-only"],
        cwd=PROJECT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return env


@pytest.mark.parametrize(
    "server",
    [
        pytest.param(
            ["daphne", "-b", "127.0.0.1", "-p", "{port}", "djchat.asgi:application"], id="daphne"
        ),
        pytest.param(
            ["uvicorn", "djchat.asgi:application", "--ws", "websockets-sansio", "--port", "{port}"],
            id="uvicorn",
        ),
    ],
)
async def test_django_project_serves_chanx_consumers(
    tmp_path: Path, project_env: dict[str, str], server: list[str]
) -> None:
    env = project_env
    port = free_port()
    args = [tool(server[0]), *(word.format(port=port) for word in server[1:])]
    with served(args, port=port, cwd=PROJECT, env=env, logs=tmp_path):
        base = f"http://127.0.0.1:{port}"
        session = await log_in(base)
        headers = {"Cookie": f"sessionid={session}"}
        async with (
            asyncio.timeout(30),
            connect(
                f"ws://127.0.0.1:{port}/ws/chat/lobby/",
                origin=Origin(base),
                additional_headers=headers,
            ) as ws,
        ):
            await ws.send('{"action": "ping", "ref": "deploy"}')
            assert await next_action(ws, "pong") is None
