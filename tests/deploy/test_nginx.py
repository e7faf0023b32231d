"""docs/deployment.md's nginx configuration in front of two app servers on the Redis layer:
WebSocket handshakes pass through, and sockets on the two upstreams share a room."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from ._servers import free_port, next_action, page_block, page_file, served, tool

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(120)]


def nginx_conf(prefix: Path, listen: int, upstreams: tuple[int, int]) -> str:
    """The page's server block, with test ports, inside a minimal main context."""
    site = page_block("nginx")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstreams[0]};")
    site = site.replace("server 127.0.0.1:8001;", f"server 127.0.0.1:{upstreams[1]};")
    site, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", site)
    assert listens == 1, "the page's nginx block should listen on port 80 once"
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log {prefix / 'access.log'};\n{temp}\n{site}\n}}\n"
    )


async def test_websockets_through_nginx_reach_both_upstreams(
    tmp_path: Path, redis_url: str
) -> None:
    nginx = tool("nginx")
    (tmp_path / "app.py").write_text(page_file("app.py"), encoding="utf-8")
    upstreams = (free_port(), free_port())
    listen = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, listen, upstreams), encoding="utf-8")
    env = {"CHANX_LAYER_URL": redis_url}
    with ExitStack() as servers:
        for port in upstreams:
            args = [sys.executable, "-m", "uvicorn", "app:app", "--ws", "websockets-sansio"]
            args += ["--host", "127.0.0.1", "--port", str(port)]
            args += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
            servers.enter_context(served(args, port=port, cwd=tmp_path, env=env))
        servers.enter_context(
            served([nginx, "-p", str(tmp_path), "-c", str(conf)], port=listen, cwd=tmp_path)
        )
        url = f"ws://127.0.0.1:{listen}/ws/rooms/{secrets.token_hex(4)}"
        async with asyncio.timeout(60), AsyncExitStack() as stack:
            a = await stack.enter_async_context(connect(url))
            b = await stack.enter_async_context(connect(url))
            # nginx's round robin sends the two handshakes to the two upstreams.
            assert await next_action(a, "hello") != await next_action(b, "hello")
            await a.send('{"action": "say", "payload": "through nginx"}')
            line = await next_action(b, "said")
            assert line["text"] == "through nginx"
    access_log = (tmp_path / "access.log").read_text()
    assert access_log.count('"GET /ws/rooms/') == 2
    assert " 101 " in access_log  # the upgrade went through the proxy
