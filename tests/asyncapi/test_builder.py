"""What the document says about each consumer shape."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, ws_handler
from chanx.core.asyncapi import WebsocketRoute, build_asyncapi, discover_routes
from tests.asyncapi import shapes
from tests.asyncapi.conftest import AsyncAPIParser
from tests.asyncapi.documents import DOCUMENTS


def walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_schemas_are_hoisted_draft7_with_string_discriminators(name: str) -> None:
    document = DOCUMENTS[name]()
    for node in walk(document):
        if not isinstance(node, dict):
            continue
        assert "$defs" not in node
        assert "prefixItems" not in node
        if "discriminator" in node and isinstance(node.get("oneOf"), list):
            assert isinstance(node["discriminator"], str)
        if isinstance(node.get("$ref"), str):
            resolve(document, node["$ref"])  # every reference points inside the document


def test_unions_and_lists_of_outputs() -> None:
    document = DOCUMENTS["unions"]()
    change = document["operations"]["cart.change"]
    assert change["action"] == "receive"
    assert change["summary"] == "Change the cart"
    assert change["tags"] == [{"name": "cart"}]
    assert [m["$ref"].rsplit("/", 1)[1] for m in change["messages"]] == ["AddItem", "RemoveItem"]
    replies = [m["$ref"].rsplit("/", 1)[1] for m in change["reply"]["messages"]]
    assert replies == ["CartUpdated", "CartRejected", "ErrorMessage"]
    checkout = document["operations"]["cart.checkout"]
    assert [m["$ref"].rsplit("/", 1)[1] for m in checkout["reply"]["messages"]] == [
        "Receipt",
        "ErrorMessage",
    ]


def test_handler_without_reply_has_no_reply() -> None:
    document = build_asyncapi([("/ws/profile", shapes.RoomConsumer)])
    assert "reply" not in document["operations"]["room.room_joined"]
    assert document["operations"]["room.room_joined"]["action"] == "send"


def test_tuples_enums_optional_and_nested_models() -> None:
    schemas = DOCUMENTS["nested"]()["components"]["schemas"]
    size = schemas["Shape"]["properties"]["size"]
    assert size["items"] == [{"type": "integer"}, {"type": "integer"}]
    assert size["additionalItems"] is False
    assert schemas["Colour"]["enum"] == ["red", "green"]
    assert "label" not in schemas["Shape"]["required"]
    assert schemas["Shape"]["properties"]["geometry"]["discriminator"] == "kind"
    assert schemas["Circle"]["properties"]["centre"] == {"$ref": "#/components/schemas/Point"}


def test_recursive_model_refers_to_itself() -> None:
    schemas = DOCUMENTS["recursion"]()["components"]["schemas"]
    children = schemas["TreeNode"]["properties"]["children"]
    assert children["items"] == {"$ref": "#/components/schemas/TreeNode"}


def test_channel_address_parameters_info_and_tags() -> None:
    document = DOCUMENTS["rooms"]()
    room = document["channels"]["room"]
    assert room["address"] == "/ws/buildings/{building}/rooms/{room}"
    assert set(room["parameters"]) == {"building", "room"}
    assert "int" in room["parameters"]["building"]["description"]
    assert room["description"] == "One room of a building."
    assert room["tags"] == [{"name": "rooms"}]
    assert document["channels"]["admin"]["address"] == "/ws/admin/{project}/"
    assert document["info"] == {
        "title": "Rooms",
        "version": "2.1.0",
        "description": "Rooms and an admin console.",
    }
    assert document["servers"]["server1"] == {
        "host": "rooms.example.com",
        "protocol": "wss",
        "pathname": "/api",
    }


def test_security_schemes_from_credentials() -> None:
    document = DOCUMENTS["rooms"]()
    schemes = document["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {
        ("query", "token"),
        ("header", "authorization"),
        ("cookie", "token"),
        ("header", "x-api-key"),
    }
    assert all(s["type"] == "httpApiKey" for s in schemes.values())
    admin = document["operations"]["admin.ping"]["security"]
    assert [resolve(document, s["$ref"])["name"] for s in admin] == ["x-api-key"]
    assert len(document["operations"]["room.ping"]["security"]) == 3


def test_correlation_id_on_requests_and_replies_only() -> None:
    document = DOCUMENTS["rooms"]()
    messages = document["components"]["messages"]
    for name in ("PingMessage", "PongMessage", "ErrorMessage"):
        ref = messages[name]["correlationId"]["$ref"]
        assert resolve(document, ref)["location"] == "$message.payload#/ref"
    assert "correlationId" not in messages["Joined"]
    assert "correlationId" not in messages["Announcement"]


def test_event_handlers_and_emits_are_send_operations() -> None:
    operations = DOCUMENTS["rooms"]()["operations"]
    joined = operations["room.room_joined"]
    assert joined["summary"] == "Presence"
    assert joined["x-chanx-events"] == ["room_joined"]
    assert joined["messages"] == [{"$ref": "#/channels/room/messages/Joined"}]
    announce = operations["room.Announcement"]
    assert announce["action"] == "send"
    assert announce["summary"].startswith("Pushed by the server")
    assert operations["room.error"]["action"] == "send"


def test_completion_frames_documented_when_enabled() -> None:
    operations = DOCUMENTS["nested"]()["operations"]
    assert operations["canvas.complete"]["messages"] == [
        {"$ref": "#/channels/canvas/messages/CompleteMessage"}
    ]
    assert "canvas.complete" not in json.dumps(DOCUMENTS["unions"]())


def test_camel_case_aliases_are_reflected() -> None:
    schemas = DOCUMENTS["aliases"]()["components"]["schemas"]
    assert set(schemas["Profile"]["properties"]) == {"displayName", "lastSeenAt"}
    assert schemas["Profile"]["required"] == ["displayName"]


def test_same_class_names_from_different_modules_do_not_collide(
    asyncapi_parser: AsyncAPIParser,
) -> None:
    def payload_class(module: str, field: str) -> Any:
        return type(
            "Payload", (BaseModel,), {"__module__": module, "__annotations__": {field: int}}
        )

    order_payload = payload_class("shop.orders", "order_id")
    user_payload = payload_class("shop.users", "user_id")

    class Order(BaseMessage):
        action: Literal["order"] = "order"
        payload: order_payload  # type: ignore[valid-type]

    class User(BaseMessage):
        action: Literal["user"] = "user"
        payload: user_payload  # type: ignore[valid-type]

    class Shop(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def order(self, message: Order) -> User:
            raise NotImplementedError

    document = build_asyncapi([("/ws/shop", Shop)])
    schemas = document["components"]["schemas"]
    payloads = {n: schemas[n] for n in schemas if n.endswith("Payload") and "Error" not in n}
    # Told apart by module, not by direction: they are different classes.
    assert {name: next(iter(s["properties"])) for name, s in payloads.items()} == {
        "shop__orders__Payload": "order_id",
        "shop__users__Payload": "user_id",
    }
    asyncapi_parser.assert_valid(document)


def test_same_route_twice_gets_two_channels() -> None:
    channels = DOCUMENTS["everything"]()["channels"]
    assert channels["room"]["address"] == "/ws/rooms/{room}"
    assert channels["room_2"]["address"] == "/ws/rooms/{room}/mirror"


def test_undocumented_message_does_not_inherit_base_docstring() -> None:
    messages = DOCUMENTS["unions"]()["components"]["messages"]
    assert "summary" not in messages["CartRejected"]
    assert messages["AddItem"]["summary"] == "Add an item to the cart."


def test_explicit_routes_accept_route_objects_and_as_asgi_apps() -> None:
    document = build_asyncapi(
        [
            WebsocketRoute("/ws/a", shapes.TreeConsumer, "trees"),
            ("/ws/b", shapes.TreeConsumer.as_asgi(), "mirror"),
        ]
    )
    assert list(document["channels"]) == ["trees", "mirror"]


def test_bad_route_items_are_named() -> None:
    with pytest.raises(TypeError, match=r"expected a WebsocketRoute or a \(path, consumer\)"):
        build_asyncapi([42])
    with pytest.raises(TypeError, match="expected a Chanx consumer class"):
        build_asyncapi([("/ws", object)])


def test_unknown_app_is_named() -> None:
    with pytest.raises(TypeError, match="but got <object object"):
        discover_routes(object())


def test_bad_server_url_is_named() -> None:
    with pytest.raises(ValueError, match="but got 'localhost'"):
        build_asyncapi([("/ws", shapes.TreeConsumer)], servers=["localhost"])


def test_bad_output_annotation_is_named() -> None:
    class Odd(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def tree(self, message: shapes.TreeMessage) -> str:
            return "x"

    with pytest.raises(TypeError, match="but got <class 'str'>"):
        build_asyncapi([("/ws", Odd)])


def test_bad_emits_is_named() -> None:
    class Odd(AsyncJsonWebsocketConsumer):
        emits = (dict,)  # type: ignore[assignment]

    with pytest.raises(TypeError, match=r"Odd.emits must list BaseMessage subclasses"):
        build_asyncapi([("/ws", Odd)])


def test_defaults_for_info() -> None:
    document = build_asyncapi([("/ws", shapes.TreeConsumer)])
    assert document["info"] == {"title": "Chanx API", "version": "0.1.0"}
    assert document["asyncapi"] == "3.0.0"
    assert "servers" not in document
