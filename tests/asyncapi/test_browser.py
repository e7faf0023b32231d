"""The docs page in headless Chromium, served by uvicorn for the chat demo, network off.

Chromium's --dump-dom prints the DOM after the page's scripts ran: the channels and
messages must be there as text, and hostile docstrings must be text, not elements.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core.asyncapi import build_asyncapi, render_docs_html
from chanx.fastapi._docs import asyncapi_routes
from tests.asyncapi import shapes
from tests.asyncapi.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_TIMEOUT = 60


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("chromium is not installed (Debian: apt-get install chromium)")
    return found


async def run_chromium(url: str, tmp_path: Path, *extra: str) -> str:
    """The DOM of ``url`` after its scripts ran; no network beyond 127.0.0.1."""
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Everything but 127.0.0.1 goes to a closed port: a CDN request would fail.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--window-size=1280,1800",
        *extra,
        url,
    ]
    with anyio.fail_after(CHROMIUM_TIMEOUT):
        done = await anyio.run_process(args, check=False, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


@pytest.fixture
def demo_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(ROOT))
    demo = importlib.import_module("examples.chat.app").app
    # The demo is wrapped, not changed: the docs routes sit in front of it.
    return Starlette(
        routes=[
            *asyncapi_routes(path="/asyncapi", source=demo),
            *asyncapi_routes(path="/evil", source=[("/ws/evil", shapes.EvilConsumer)]),
            Mount("/", app=demo),
        ]
    )


@pytest.fixture
async def server(demo_app: Any) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # the browser waits in the backlog until uvicorn accepts
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(demo_app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield port
    finally:
        server.should_exit = True
        with anyio.fail_after(10):
            await task
        sock.close()


async def test_demo_docs_page_shows_channels_and_messages(server: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{server}/asyncapi"
    dom = await run_chromium(url, tmp_path, "--dump-dom")
    assert 'data-rendered="true"' in dom
    for text in (
        "/ws/chat/{room_id}",
        "/ws/notifications",
        "ChatMessage",
        "PresenceMessage",
        "NotificationMessage",
        "client → server",
        "server → client",
        "Chanx chat demo",
    ):
        assert text in dom, text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "asyncapi-docs.png"
    await run_chromium(url, tmp_path, f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000


async def test_hostile_docstrings_are_shown_as_text(server: int, tmp_path: Path) -> None:
    dom = await run_chromium(f"http://127.0.0.1:{server}/evil", tmp_path, "--dump-dom")
    assert 'data-rendered="true"' in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>Chanx API — AsyncAPI</title>" in dom  # the script did not run
    assert "<img" not in dom
    assert "pwned</title>" not in dom


async def test_static_export_opens_from_file_url(tmp_path: Path) -> None:
    document = build_asyncapi([("/ws/rooms/{room}", shapes.RoomConsumer)], title="Offline")
    page = tmp_path / "index.html"
    page.write_text(render_docs_html(document), encoding="utf-8")
    dom = await run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert 'data-rendered="true"' in dom
    assert "/ws/rooms/{room}" in dom
    assert "Announcement" in dom


class CodeSpeaker(AsyncJsonWebsocketConsumer):
    """Send `ping` to get ``pong``; `<img src=x>` stays text, even inside backticks."""

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        """Answers with `pong`."""
        return PongMessage()


async def test_inline_code_in_docstrings_renders_as_code(tmp_path: Path) -> None:
    # Seen: docstring markup showed raw backticks on the docs page.
    document = build_asyncapi([("/ws/code", CodeSpeaker)], title="Code")
    page = tmp_path / "index.html"
    page.write_text(render_docs_html(document), encoding="utf-8")
    dom = await run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert 'data-rendered="true"' in dom
    assert 'Send <code class="inline-code">ping</code> to get' in dom
    assert '<code class="inline-code">pong</code>' in dom
    assert 'Answers with <code class="inline-code">pong</code>' in dom
    assert '<code class="inline-code">&lt;img src=x&gt;</code> stays text' in dom
    assert "`" not in dom.split("<body", 1)[1].split("<script", 1)[0]
    assert "<img" not in dom
