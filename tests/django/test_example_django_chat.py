"""examples/django_chat in a subprocess of its own (it has its own Django settings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from .conftest import require_drf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django_chat"

PROBE = textwrap.dedent(
    """
    import asyncio, json, os
    os.environ["DJANGO_SETTINGS_MODULE"] = "djchat.settings"
    from djchat.asgi import application
    from django.core.management import call_command
    from django.test import Client
    from asgiref.sync import sync_to_async
    from chanx.testing import WebsocketCommunicator

    call_command("rundemo", "--setup-only", verbosity=0)
    out = []

    def login(name):
        client = Client()
        assert client.login(username=name, password="chanx-demo")
        return client

    async def main():
        alice = await sync_to_async(login)("alice")
        cookie = "sessionid=" + alice.cookies["sessionid"].value
        headers = {"origin": "http://testserver", "cookie": cookie}
        # 10 s: the first socket opens the layer's broker connection (slow on a loaded machine).
        chat = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=headers, timeout=10)
        async with chat as ws:
            out.append(await ws.receive_json())
            out.append(await ws.receive_json())
            await ws.send_json({"action": "chat", "payload": {"text": "hi"}})
            out.append(await ws.receive_json())
            post = sync_to_async(alice.post)
            response = await post(
                "/api/notify/alice/", json.dumps({"text": "mail"}), "application/json"
            )
            out.append(response.status_code)
            out.append(await ws.receive_json())
        anon = WebsocketCommunicator(
            application, "/ws/notifications/", headers={"origin": "http://testserver"}, timeout=10
        )
        await anon.connect()
        out.append((await anon.receive_json())["payload"]["code"])
        out.append((await anon.assert_closed())["code"])
        await anon.disconnect()

    asyncio.run(main())
    from channels.layers import get_channel_layer
    out.append(type(get_channel_layer()).__module__.split(".")[0])
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize(
    ("layer", "package"),
    [
        pytest.param("", "channels", id="in-memory"),
        # The same demo on RabbitMQ: only the layer URL changes.
        pytest.param("amqp", "chanx", id="amqp", marks=pytest.mark.rabbitmq),
    ],
)
def test_the_demo_chats_notifies_and_refuses_anonymous_users(
    tmp_path: Path, request: pytest.FixtureRequest, layer: str, package: str
) -> None:
    require_drf()
    env = {**os.environ, "DJCHAT_DB": str(tmp_path / "db.sqlite3"), "PYTHONPATH": str(EXAMPLE)}
    env.pop("CHANX_LAYER_URL", None)
    if layer == "amqp":
        url: str = request.getfixturevalue("amqp_url")
        env["CHANX_LAYER_URL"] = f"{url}?prefix=test-djchat-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    frames = json.loads(done.stdout.strip().splitlines()[-1])
    assert frames[0]["action"] == "authenticated"
    assert frames[0]["payload"]["username"] == "alice"
    assert frames[1] == {
        "action": "presence",
        "payload": {"room": "lobby", "username": "alice", "status": "joined"},
    }
    assert frames[2]["payload"] == {"room": "lobby", "username": "alice", "text": "hi"}
    assert frames[3] == 202
    assert frames[4] == {"action": "notification", "payload": {"text": "mail", "sender": "alice"}}
    assert frames[5:] == ["unauthenticated", 4401, package]
