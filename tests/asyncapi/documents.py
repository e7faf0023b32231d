"""The documents the tests build: one per consumer shape, plus everything together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chanx.core.asyncapi import build_asyncapi
from tests.asyncapi import shapes

DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "unions": lambda: build_asyncapi([("/ws/cart", shapes.CartConsumer)], title="Cart"),
    "nested": lambda: build_asyncapi([("/ws/canvas", shapes.CanvasConsumer)], title="Canvas"),
    "recursion": lambda: build_asyncapi([("/ws/tree", shapes.TreeConsumer)], title="Tree"),
    "rooms": lambda: build_asyncapi(
        [
            ("/ws/buildings/{building:int}/rooms/{room}", shapes.RoomConsumer),
            ("ws/admin/<int:project>/", shapes.AdminConsumer.as_asgi()),
        ],
        title="Rooms",
        version="2.1.0",
        description="Rooms and an admin console.",
        servers=["wss://rooms.example.com/api", "ws://localhost:8000"],
    ),
    "aliases": lambda: build_asyncapi([("/ws/profile", shapes.ProfileConsumer)], title="Profile"),
    "escaping": lambda: build_asyncapi([("/ws/evil", shapes.EvilConsumer)], title=shapes.XSS),
    "everything": lambda: build_asyncapi(
        [
            ("/ws/cart", shapes.CartConsumer),
            ("/ws/canvas", shapes.CanvasConsumer),
            ("/ws/tree", shapes.TreeConsumer),
            ("/ws/rooms/{room}", shapes.RoomConsumer),
            ("/ws/rooms/{room}/mirror", shapes.RoomConsumer),
            ("/ws/admin", shapes.AdminConsumer),
            ("/ws/profile", shapes.ProfileConsumer),
            ("/ws/evil", shapes.EvilConsumer),
        ],
        servers={"production": {"host": "example.com", "protocol": "wss"}},
    ),
}
