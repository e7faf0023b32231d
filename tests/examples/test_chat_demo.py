"""The chat demo (examples/chat) driven in-process: WebSocket frames and the notify endpoint."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from chanx.core import register_channel_layer
from chanx.core.layers import InMemoryChannelLayer, unregister_channel_layer
from chanx.testing import WebsocketCommunicator

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2.0


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The demo lives outside the installed packages: import it from the repository root.
    monkeypatch.syspath_prepend(str(ROOT))
    module = importlib.import_module("examples.chat.app")
    # A fresh layer per test, so no group outlives its test (or its event loop).
    layer = register_channel_layer("default", InMemoryChannelLayer())
    yield module.app
    if unregister_channel_layer("default") is not layer:
        raise AssertionError("the demo test's channel layer was replaced during the test")


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def presence(username: str, status: str, room: str = "lobby") -> dict[str, Any]:
    return {
        "action": "presence",
        "payload": {"room": room, "username": username, "status": status},
    }


async def join(app: Any, name: str, room: str = "lobby") -> WebsocketCommunicator:
    ws = WebsocketCommunicator(app, f"/ws/chat/{room}?token={name}", timeout=TIMEOUT)
    assert await ws.connect()
    assert await ws.receive_json() == presence(name, "joined", room)
    return ws


async def test_index_page_and_assets_are_served(http: httpx.AsyncClient) -> None:
    with anyio.fail_after(TIMEOUT):
        page = await http.get("/")
        script = await http.get("/static/app.js")
    assert page.status_code == 200
    assert "<title>Chanx chat demo</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert script.status_code == 200
    assert "innerHTML" not in script.text  # user text goes in with textContent only


async def test_ping_pong_echoes_ref(app: Any) -> None:
    ws = await join(app, "alice")
    await ws.send_json({"action": "ping", "ref": "p1"})
    assert await ws.receive_json() == {"action": "pong", "ref": "p1", "payload": None}
    await ws.disconnect()


async def test_two_users_in_a_room_see_each_others_chat(app: Any) -> None:
    alice = await join(app, "alice")
    bob = await join(app, "bob")
    assert await alice.receive_json() == presence("bob", "joined")
    elsewhere = await join(app, "carol", room="kitchen")

    await bob.send_json({"action": "chat", "payload": {"text": "hi <b>alice</b>"}})
    line = {
        "action": "chat_message",
        "payload": {"room": "lobby", "username": "bob", "text": "hi <b>alice</b>"},
    }
    assert await alice.receive_json() == line
    assert await bob.receive_json() == line
    assert await elsewhere.receive_nothing()

    await bob.disconnect()
    assert await alice.receive_json() == presence("bob", "left")
    await alice.disconnect()
    await elsewhere.disconnect()


async def test_notify_endpoint_reaches_only_the_target_user(
    app: Any, http: httpx.AsyncClient
) -> None:
    alice = await join(app, "alice")
    bob = await join(app, "bob")
    assert await alice.receive_json() == presence("bob", "joined")
    bob_elsewhere = WebsocketCommunicator(app, "/ws/notifications?token=bob", timeout=TIMEOUT)
    assert await bob_elsewhere.connect()

    with anyio.fail_after(TIMEOUT):
        response = await http.post("/api/notify/bob", json={"text": "lunch?", "sender": "alice"})
    assert response.status_code == 202
    assert response.json() == {"group": "user_bob"}

    note = {"action": "notification", "payload": {"text": "lunch?", "sender": "alice"}}
    assert await bob.receive_json() == note
    assert await bob_elsewhere.receive_json() == note
    assert await alice.receive_nothing()
    for ws in (alice, bob, bob_elsewhere):
        await ws.disconnect()


async def test_notify_endpoint_validates_its_input(http: httpx.AsyncClient) -> None:
    with anyio.fail_after(TIMEOUT):
        bad_user = await http.post("/api/notify/no%20spaces", json={"text": "x"})
        empty = await http.post("/api/notify/bob", json={"text": ""})
    assert bad_user.status_code == 422
    assert empty.status_code == 422


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(app: Any) -> None:
    ws = await join(app, "alice")
    await ws.send_text("not json")
    assert (await ws.receive_json())["payload"]["code"] == "invalid_json"
    await ws.send_json({"action": "chat", "payload": {"text": ""}, "ref": 7})
    error = await ws.receive_json()
    assert error["ref"] == 7
    assert error["payload"]["code"] == "validation_error"
    assert error["payload"]["errors"][0]["loc"] == ["payload", "text"]
    await ws.send_json({"action": "ping"})
    assert (await ws.receive_json())["action"] == "pong"
    await ws.disconnect()


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/ws/chat/lobby", 4401),
        ("/ws/chat/lobby?token=not%20a%20name", 4401),
        ("/ws/chat/no%20spaces?token=alice", 4403),
        ("/ws/notifications", 4401),
    ],
)
async def test_rejected_connections_close_with_4401_or_4403(app: Any, path: str, code: int) -> None:
    ws = WebsocketCommunicator(app, path, timeout=TIMEOUT)
    await ws.connect()
    error = await ws.receive_json()
    assert error["action"] == "error"
    await ws.assert_closed(code)
    await ws.disconnect()


async def test_asyncapi_document_and_docs_page_are_served(http: httpx.AsyncClient) -> None:
    document = (await http.get("/asyncapi.json")).json()
    assert document["asyncapi"].startswith("3.")
    assert {"ChatNotification", "PongMessage"} <= set(document["components"]["messages"])
    page = await http.get("/asyncapi")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
