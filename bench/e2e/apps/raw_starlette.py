"""The ceiling: a bare Starlette endpoint that answers frames without parsing them.

Ping frames get a constant pong, broadcast requests are relayed to every open socket in a
plain send loop, anything else is echoed back unchanged (which covers the soak's seq frames).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

PING = '{"action":"ping","payload":null}'
PONG = '{"action":"pong","payload":null}'
BROADCAST_PREFIX = '{"action":"broadcast",'
NOTIFY_PREFIX = '{"action":"notify",'

members: set[WebSocket] = set()


async def relay(text: str) -> None:
    notify = NOTIFY_PREFIX + text[len(BROADCAST_PREFIX) :]
    for member in list(members):
        try:
            await member.send_text(notify)
        except Exception:  # a member closing mid-loop must not stop the others
            members.discard(member)


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    members.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            if text == PING:
                await websocket.send_text(PONG)
            elif text.startswith(BROADCAST_PREFIX):
                await relay(text)
            else:
                await websocket.send_text(text)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)


app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
