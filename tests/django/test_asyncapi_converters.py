# mypy: disable-error-code="import-untyped"
"""Django path converters become typed AsyncAPI parameters.

Seen: a Django route ``<int:room_id>`` was documented as a string (FastAPI's
``{room_id:int}`` was right).
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from django.urls import path, re_path, register_converter

from chanx.core.asyncapi import build_asyncapi
from chanx.django import AsyncJsonWebsocketConsumer
from tests.asyncapi.conftest import AsyncAPIParser


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:04d}"


register_converter(YearConverter, "chanx_test_year")


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """A room."""


def parameters_by_address() -> dict[str, dict[str, Any]]:
    consumer = RoomConsumer.as_asgi()
    router = URLRouter(
        [
            path("ws/int/<int:room_id>/", consumer),
            path("ws/slug/<slug:name>/", consumer),
            path("ws/uuid/<uuid:key>/", consumer),
            path("ws/path/<path:rest>", consumer),
            path("ws/str/<str:word>/", consumer),
            path("ws/plain/<word>/", consumer),
            path("ws/year/<chanx_test_year:year>/", consumer),
            re_path(r"^ws/re/(?P<code>[A-Z]{3})/$", consumer),
            path("ws/nested/<int:building>/", URLRouter([path("<slug:room>/", consumer)])),
        ]
    )
    document = build_asyncapi(router, title="Rooms", version="1")
    return {c["address"]: c.get("parameters", {}) for c in document["channels"].values()}


def schemas(parameters: dict[str, Any]) -> dict[str, Any]:
    return {name: p["x-chanx-schema"] for name, p in parameters.items()}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("/ws/int/{room_id}/", {"room_id": {"type": "integer", "minimum": 0}}),
        ("/ws/slug/{name}/", {"name": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}}),
        ("/ws/uuid/{key}/", {"key": {"type": "string", "format": "uuid"}}),
        ("/ws/path/{rest}", {"rest": {"type": "string", "pattern": "^.+$"}}),
        ("/ws/str/{word}/", {"word": {"type": "string", "pattern": "^[^/]+$"}}),
        ("/ws/plain/{word}/", {"word": {"type": "string", "pattern": "^[^/]+$"}}),
        ("/ws/year/{year}/", {"year": {"type": "string", "pattern": "^(?:[0-9]{4})$"}}),
        ("/ws/re/{code}/", {"code": {"type": "string", "pattern": "^(?:[A-Z]{3})$"}}),
        (
            "/ws/nested/{building}/{room}/",
            {
                "building": {"type": "integer", "minimum": 0},
                "room": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
            },
        ),
    ],
)
def test_converters_map_to_parameter_schemas(address: str, expected: dict[str, Any]) -> None:
    assert schemas(parameters_by_address()[address]) == expected


def test_descriptions_and_examples_say_what_a_segment_accepts() -> None:
    found = parameters_by_address()
    assert found["/ws/int/{room_id}/"]["room_id"] == {
        "description": "Path segment 'room_id': a non-negative integer.",
        "examples": ["42"],
        "x-chanx-schema": {"type": "integer", "minimum": 0},
    }
    code = found["/ws/re/{code}/"]["code"]["description"]
    assert code == "Path segment 'code': text matching the regular expression `[A-Z]{3}`."


def test_the_document_with_every_converter_is_valid(asyncapi_parser: AsyncAPIParser) -> None:
    consumer = RoomConsumer.as_asgi()
    router = URLRouter(
        [
            path("ws/<int:a>/<slug:b>/<uuid:c>/<str:d>/<chanx_test_year:e>/<path:f>", consumer),
            re_path(r"^ws/re/(?P<code>[A-Z]{3})/$", consumer),
        ]
    )
    asyncapi_parser.assert_valid(build_asyncapi(router, title="Rooms", version="1"))
