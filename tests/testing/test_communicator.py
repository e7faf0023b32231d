"""WebsocketCommunicator against small raw ASGI apps built inline."""

from __future__ import annotations

import asyncio
from typing import Any, Literal, assert_type

import pytest
from pydantic import BaseModel, TypeAdapter

from chanx.core.types import Message, Receive, Scope, Send
from chanx.testing import (
    CommunicatorTimeoutError,
    ConnectResult,
    HandshakeRefusedError,
    UnexpectedEventError,
    WebsocketCommunicator,
)


class Ping(BaseModel):
    action: Literal["ping"] = "ping"
    reply_to: str | None = None


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") is not None:
            await send({"type": "websocket.send", "text": event["text"]})
        else:
            await send({"type": "websocket.send", "bytes": event["bytes"]})


def accept_then(*events: Message, record: list[Message] | None = None) -> Any:
    """An app that accepts, sends ``events`` and then records what it hears until disconnect."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        for event in events:
            await send(event)
        while (event := await receive())["type"] != "websocket.disconnect":
            pass
        if record is not None:
            record.append(event)

    return app


async def test_text_json_and_messages_round_trip() -> None:
    ws = WebsocketCommunicator(echo_app, "/ws")
    result = await ws.connect()
    assert result == ConnectResult(accepted=True)
    assert result
    assert tuple(result) == (True, None)
    assert ws.accepted

    await ws.send_text("hello")
    assert await ws.receive_text() == "hello"
    await ws.send_json({"action": "chat", "n": 1})
    assert await ws.receive_json() == {"action": "chat", "n": 1}

    await ws.send_message(Ping(reply_to="x"))
    assert await ws.receive_message(Ping) == Ping(reply_to="x")
    await ws.send_message(Ping())
    assert await ws.receive_message() == {"action": "ping", "reply_to": None}
    await ws.send_message(Ping())
    assert await ws.receive_message(TypeAdapter(Ping)) == Ping()
    await ws.disconnect()


async def test_binary_echo() -> None:
    async with WebsocketCommunicator(echo_app, "/ws") as ws:
        await ws.send_bytes(b"\x00\xff")
        assert await ws.receive_bytes() == b"\x00\xff"
        await ws.send_bytes(b"raw")
        assert await ws.receive_output() == {"type": "websocket.send", "bytes": b"raw"}


async def test_binary_frame_where_text_is_expected() -> None:
    async with WebsocketCommunicator(echo_app, "/ws") as ws:
        await ws.send_bytes(b"abc")
        with pytest.raises(
            UnexpectedEventError, match=r"expected a text frame .*binary frame b'abc'"
        ):
            await ws.receive_json()
        await ws.send_text("not json")
        with pytest.raises(UnexpectedEventError, match="expected a JSON text frame"):
            await ws.receive_json()


async def test_receive_message_that_does_not_validate() -> None:
    async with WebsocketCommunicator(echo_app, "/ws") as ws:
        await ws.send_json({"action": "pong"})
        with pytest.raises(UnexpectedEventError, match=r"expected a Ping, but got"):
            await ws.receive_message(Ping)


async def test_context_manager_connects_and_disconnects() -> None:
    heard: list[Message] = []
    async with WebsocketCommunicator(accept_then(record=heard), "/ws") as ws:
        assert ws.accepted
        assert heard == []
    assert heard == [{"type": "websocket.disconnect", "code": 1000}]


async def test_accept_then_close_like_rejected_authentication() -> None:
    error = {"action": "error", "payload": {"code": "unauthenticated"}}
    heard: list[Message] = []
    app = accept_then(
        {
            "type": "websocket.send",
            "text": '{"action": "error", "payload": {"code": "unauthenticated"}}',
        },
        {"type": "websocket.close", "code": 4401, "reason": "unauthenticated"},
        record=heard,
    )
    ws = WebsocketCommunicator(app, "/ws")
    assert await ws.connect() == ConnectResult(accepted=True)
    assert await ws.receive_json() == error
    with pytest.raises(UnexpectedEventError, match="code 4401 and reason 'unauthenticated'"):
        await ws.receive_json()
    assert ws.close_code == 4401
    assert ws.close_reason == "unauthenticated"
    closed = await ws.assert_closed(4401, reason="unauthenticated")
    assert closed == {"type": "websocket.close", "code": 4401, "reason": "unauthenticated"}
    await ws.disconnect()
    # As a server would, the communicator tells the app the socket ended with its own code.
    assert heard == [{"type": "websocket.disconnect", "code": 4401}]


async def test_assert_closed_checks_code_and_shows_data_frames() -> None:
    app = accept_then({"type": "websocket.close"})
    async with WebsocketCommunicator(app, "/ws") as ws:
        with pytest.raises(AssertionError, match="expected close code 4403, but got a close "):
            await ws.assert_closed(4403)
        assert (await ws.assert_closed())["code"] == 1000

    async with WebsocketCommunicator(echo_app, "/ws") as ws:
        await ws.send_text("still open")
        with pytest.raises(UnexpectedEventError, match="but got a text frame 'still open'"):
            await ws.assert_closed()


async def test_close_before_accept_is_a_denial() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4403, "reason": "forbidden"})

    ws = WebsocketCommunicator(app, "/ws")
    result = await ws.connect()
    assert not result
    accepted, code = result
    assert (accepted, code) == (False, 4403)
    assert result.close_reason == "forbidden"
    assert (ws.accepted, ws.close_code, ws.response_status) == (False, 4403, 403)
    await ws.assert_closed(4403)
    await ws.disconnect()


async def test_http_response_denial() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "websocket.http.response" in scope["extensions"]
        await receive()
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b"no ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"token"})

    with pytest.raises(HandshakeRefusedError, match="HTTP 401") as refused:
        async with WebsocketCommunicator(app, "/ws"):
            pass
    assert refused.value.response_status == 401
    result = await WebsocketCommunicator(app, "/ws").connect()
    assert result.response_body == b"no token"
    assert result.response_headers == ((b"content-type", b"text/plain"),)
    assert tuple(result) == (False, 401)


async def test_app_error_before_accept_surfaces_in_connect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom in app")

    ws = WebsocketCommunicator(app, "/ws")
    with pytest.raises(ValueError, match="boom in app"):
        await ws.connect()
    await ws.disconnect()  # reported once, not again


async def test_app_error_surfaces_after_queued_frames() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "text": "last words"})
        raise RuntimeError("handler crashed")

    async with WebsocketCommunicator(app, "/ws") as ws:
        await ws.send_text("go")
        assert await ws.receive_text() == "last words"
        with pytest.raises(RuntimeError, match="handler crashed"):
            await ws.receive_text()
        with pytest.raises(UnexpectedEventError, match="the app finished without a frame"):
            await ws.receive_text()


async def test_app_error_surfaces_in_disconnect_and_context_exit() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise KeyError("on disconnect")

    ws = WebsocketCommunicator(app, "/ws")
    await ws.connect()
    with pytest.raises(KeyError, match="on disconnect"):
        await ws.disconnect()
    with pytest.raises(KeyError, match="on disconnect"):
        async with WebsocketCommunicator(app, "/ws"):
            pass


async def test_silent_app_times_out_with_a_clear_message() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    async with WebsocketCommunicator(app, "/ws", timeout=0.05) as ws:
        with pytest.raises(CommunicatorTimeoutError) as info:
            await ws.receive_json()
        assert str(info.value) == "no frame from the app within 0.05 s (waiting for receive_json)"
        assert isinstance(info.value, TimeoutError)
        with pytest.raises(CommunicatorTimeoutError, match=r"within 0.01 s \(waiting for assert"):
            await ws.assert_closed(timeout=0.01)


async def test_app_that_never_answers_connect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.Event().wait()

    ws = WebsocketCommunicator(app, "/ws", timeout=0.05)
    with pytest.raises(CommunicatorTimeoutError, match=r"no answer to websocket.connect from the"):
        await ws.connect()
    with pytest.raises(CommunicatorTimeoutError, match=r"did not finish within 0\.05 s"):
        await ws.disconnect()


async def test_disconnect_of_an_app_that_ignores_it_is_bounded() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            await receive()

    ws = WebsocketCommunicator(app, "/ws")
    await ws.connect()
    with pytest.raises(CommunicatorTimeoutError, match="it was cancelled"):
        await ws.disconnect(timeout=0.05)
    await ws.disconnect()  # already finished: nothing left to wait for


async def test_app_that_returns_without_a_frame() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    async with WebsocketCommunicator(app, "/ws") as ws:
        with pytest.raises(UnexpectedEventError, match=r"finished without a frame \(waiting for "):
            await ws.receive_text()
        assert await ws.receive_nothing()


async def test_app_that_sends_before_accept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "too early"})

    ws = WebsocketCommunicator(app, "/ws")
    with pytest.raises(UnexpectedEventError, match="but got a text frame 'too early'"):
        await ws.connect()
    await ws.disconnect()


async def test_subprotocol_selection() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][-1]})
        await receive()

    async with WebsocketCommunicator(app, "/ws", subprotocols=["v1", "chanx.v2"]) as ws:
        assert ws.subprotocol == "chanx.v2"
    other = WebsocketCommunicator(app, "/ws", subprotocols=["v1"])
    result = await other.connect()
    assert tuple(result) == (True, "v1")
    # Left connected, the app's task outlives the test's event loop (a warning on old asyncio
    # plugins, which do not cancel leftover tasks).
    await other.disconnect()


def scope_of(ws: WebsocketCommunicator) -> dict[str, Any]:
    return ws.scope


def test_scope_from_path_headers_and_query() -> None:
    ws = WebsocketCommunicator(
        echo_app,
        "/ws/chat/caf%C3%A9?token=abc&x=1",
        headers=[("X-Token", "t"), (b"Cookie", b"a=b")],
        subprotocols=("v1",),
    )
    scope = scope_of(ws)
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/ws/chat/café"
    assert scope["raw_path"] == b"/ws/chat/caf%C3%A9"
    assert scope["query_string"] == b"token=abc&x=1"
    assert scope["headers"] == [(b"host", b"testserver"), (b"x-token", b"t"), (b"cookie", b"a=b")]
    assert scope["subprotocols"] == ["v1"]
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ("testserver", 80)


def test_scope_query_string_and_header_mapping() -> None:
    ws = WebsocketCommunicator(
        echo_app, "/ws", headers={"Host": "example.org"}, query_string={"token": "a b"}
    )
    assert scope_of(ws)["headers"] == [(b"host", b"example.org")]
    assert scope_of(ws)["query_string"] == b"token=a+b"
    assert scope_of(WebsocketCommunicator(echo_app, "/", query_string=b"a=1"))["query_string"] == (
        b"a=1"
    )
    with pytest.raises(ValueError, match="query given twice"):
        WebsocketCommunicator(echo_app, "/ws?a=1", query_string="b=2")


async def test_app_sees_the_scope() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await echo_app(scope, receive, send)

    async with WebsocketCommunicator(app, "/ws?room=1", headers={"origin": "http://x"}):
        pass
    assert seen[0]["query_string"] == b"room=1"
    assert (b"origin", b"http://x") in seen[0]["headers"]


async def test_receive_all_messages_until_complete() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            for n in range(3):
                await send({"type": "websocket.send", "text": f'{{"action": "item", "n": {n}}}'})
            await send({"type": "websocket.send", "text": '{"action": "complete"}'})

    async with WebsocketCommunicator(app, "/ws", timeout=0.05) as ws:
        await ws.send_text("go")
        frames = await ws.receive_all_messages()
        assert frames == [{"action": "item", "n": n} for n in range(3)]
        await ws.send_text("again")
        assert len(await ws.receive_all_messages("item")) == 0
        with pytest.raises(CommunicatorTimeoutError, match="3 frames so far, no 'done' yet"):
            await ws.receive_all_messages("done")


async def test_receive_all_messages_is_bounded_as_a_whole() -> None:
    # A stream that never completes: each frame comes well within the timeout.
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})

        async def stream() -> None:
            n = 0
            while True:
                n += 1
                await send({"type": "websocket.send", "text": f'{{"action": "item", "n": {n}}}'})
                await asyncio.sleep(0.01)  # the app's pace, not a synchronisation

        streaming = asyncio.create_task(stream())
        await receive()  # the disconnect
        streaming.cancel()

    async with WebsocketCommunicator(app, "/ws", timeout=0.3) as ws:
        started = asyncio.get_running_loop().time()
        with pytest.raises(CommunicatorTimeoutError, match=r"0\.3 s for all of them"):
            await ws.receive_all_messages()
        assert asyncio.get_running_loop().time() - started < 3


async def test_receive_nothing_lets_pending_work_run_and_keeps_the_frame() -> None:
    async with WebsocketCommunicator(echo_app, "/ws") as ws:
        assert await ws.receive_nothing()
        await ws.send_text("late")
        assert not await ws.receive_nothing(timeout=0)
        assert await ws.receive_text() == "late"
        assert await ws.receive_nothing(timeout=0.01)


async def test_misuse_is_reported() -> None:
    ws = WebsocketCommunicator(echo_app, "/ws")
    with pytest.raises(RuntimeError, match=r"call connect\(\) before receive_json"):
        await ws.receive_json()
    await ws.disconnect()  # never connected: nothing to do
    await ws.connect()
    with pytest.raises(RuntimeError, match="already called"):
        await ws.connect()
    await ws.disconnect()


async def _receive_message_is_typed(ws: WebsocketCommunicator) -> None:
    # Never run: mypy checks these (house rule: types are tested).
    assert_type(await ws.receive_message(Ping), Ping)
    assert_type(await ws.receive_message(TypeAdapter(list[int])), list[int])
    assert_type(await ws.receive_message(), Any)
    assert_type(await ws.connect(), ConnectResult)
