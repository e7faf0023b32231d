"""Route discovery in Starlette/FastAPI apps and the one-call docs routes."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.routing import Host, Mount, Router, WebSocketRoute

from chanx.core.asyncapi import DOCS_CSP, build_asyncapi, discover_routes
from chanx.fastapi._adapter import StarletteAdapter
from chanx.fastapi._docs import add_asyncapi_routes, asyncapi_routes
from tests.asyncapi import shapes
from tests.asyncapi.conftest import AsyncAPIParser


async def get(app: Any, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs.test") as client:
        with anyio.fail_after(5):
            return await client.get(url)


def test_routes_in_mounts_routers_and_sub_apps_are_found() -> None:
    router = APIRouter()
    router.add_websocket_route("/tree", shapes.TreeConsumer.as_asgi())  # type: ignore[arg-type, unused-ignore]
    inner = APIRouter()
    inner.add_websocket_route("/profile", shapes.ProfileConsumer.as_asgi())  # type: ignore[arg-type, unused-ignore]
    router.include_router(inner, prefix="/inner")
    sub = Starlette(routes=[WebSocketRoute("/cart", shapes.CartConsumer.as_asgi())])
    app = FastAPI(title="Shop", version="3.0")
    app.include_router(router, prefix="/api")
    app.router.add_websocket_route("/ws/{room}", shapes.RoomConsumer.as_asgi(), name="rooms")  # type: ignore[arg-type, unused-ignore]
    app.mount("/sub/{tenant}", sub)
    app.router.routes.append(
        Host(
            "admin.example.com", Router([WebSocketRoute("/admin", shapes.AdminConsumer.as_asgi())])
        )
    )

    async def plain(websocket: Any) -> None: ...

    app.router.add_websocket_route("/plain", plain)
    found = [(r.path, r.consumer, r.name) for r in discover_routes(app)]
    assert found == [
        ("/api/tree", shapes.TreeConsumer, None),
        ("/api/inner/profile", shapes.ProfileConsumer, None),
        ("/ws/{room}", shapes.RoomConsumer, "rooms"),
        ("/sub/{tenant}/cart", shapes.CartConsumer, None),
        ("/admin", shapes.AdminConsumer, None),
    ]
    document = build_asyncapi(app)
    assert document["info"] == {"title": "Shop", "version": "3.0"}
    assert document["channels"]["cart"]["address"] == "/sub/{tenant}/cart"
    assert list(document["channels"]["cart"]["parameters"]) == ["tenant"]


def test_adapter_recognises_starlette_things_only() -> None:
    adapter = StarletteAdapter()
    assert adapter.handles_app(FastAPI())
    assert adapter.handles_app(Starlette())
    assert adapter.handles_app(APIRouter())
    assert not adapter.handles_app(object())
    assert adapter.handles_scope({"type": "websocket", "app": Starlette()})
    assert not adapter.handles_scope({"type": "websocket"})
    assert adapter.get_channel_layer("default") is None


def make_app() -> FastAPI:
    app = FastAPI(title="Rooms", version="1.2.3", description="Room <service>.")
    app.router.add_websocket_route("/ws/rooms/{room}", shapes.RoomConsumer.as_asgi())  # type: ignore[arg-type, unused-ignore]
    app.router.add_websocket_route("/ws/evil", shapes.EvilConsumer.as_asgi())  # type: ignore[arg-type, unused-ignore]
    add_asyncapi_routes(app)
    return app


async def test_json_yaml_page_and_assets_are_served(asyncapi_parser: AsyncAPIParser) -> None:
    yaml = pytest.importorskip("yaml")
    app = make_app()
    as_json = await get(app, "/asyncapi.json")
    assert as_json.status_code == 200
    document = as_json.json()
    assert document["info"]["title"] == "Rooms"
    assert document["servers"] == {"default": {"host": "docs.test", "protocol": "ws"}}
    asyncapi_parser.assert_valid(document)
    as_yaml = await get(app, "/asyncapi.yaml")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == document
    page = await get(app, "/asyncapi")
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert '<script src="/asyncapi/docs.js"></script>' in page.text
    assert '<link rel="stylesheet" href="/asyncapi/docs.css">' in page.text
    script = await get(app, "/asyncapi/docs.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "textContent" in script.text or "append" in script.text
    assert "innerHTML" not in script.text
    assert (await get(app, "/asyncapi/docs.css")).status_code == 200
    assert "/asyncapi" not in json.dumps(app.openapi())


async def test_page_embeds_docstrings_as_inert_json() -> None:
    page = (await get(make_app(), "/asyncapi")).text
    assert shapes.XSS not in page
    assert "<script>document.title" not in page
    assert "<img" not in page
    embedded = page.split('id="asyncapi-document">', 1)[1].split("</script>", 1)[0]
    document = json.loads(embedded)
    assert document["channels"]["evil"]["description"].endswith(shapes.XSS)
    assert "<title>Rooms — AsyncAPI</title>" in page


async def test_routes_for_a_plain_starlette_app_document_the_serving_app() -> None:
    app = Starlette(
        routes=[
            WebSocketRoute("/ws/tree", shapes.TreeConsumer.as_asgi()),
            *asyncapi_routes(path="/docs/asyncapi", servers=["wss://tree.example.com"]),
        ]
    )
    document = (await get(app, "/docs/asyncapi.json")).json()
    assert list(document["channels"]) == ["tree"]
    assert document["servers"]["default"]["host"] == "tree.example.com"
    page = await get(app, "/docs/asyncapi")
    assert 'src="/docs/asyncapi/docs.js"' in page.text


async def test_docs_under_a_root_path_use_it_for_assets() -> None:
    inner = FastAPI()
    add_asyncapi_routes(inner, path="/asyncapi")
    outer = Starlette(routes=[Mount("/api", app=inner)])
    page = await get(outer, "/api/asyncapi")
    assert page.status_code == 200
    assert 'src="/api/asyncapi/docs.js"' in page.text


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="but got 'asyncapi'"):
        asyncapi_routes(path="asyncapi")
    with pytest.raises(TypeError, match="but got 42"):
        add_asyncapi_routes(42)  # type: ignore[arg-type, unused-ignore]
