# mypy: disable-error-code="import-untyped, untyped-decorator"
"""The include-able AsyncAPI views: document (JSON, YAML), docs page and its assets."""

from __future__ import annotations

import json

from django.test import Client, override_settings

APP = "tests.django.project.application"


@override_settings(ASGI_APPLICATION=APP, CHANX={"ASYNCAPI_TITLE": "Chat API"})
def test_json_document_of_the_routed_consumers() -> None:
    response = Client().get("/asyncapi/asyncapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Chat API"
    assert document["servers"]["default"]["host"] == "testserver"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert "/ws/chat/{room_id}/" in addresses


@override_settings(ASGI_APPLICATION=APP, CHANX={"ASYNCAPI_SERVERS": ["wss://chat.example.com"]})
def test_yaml_document_uses_configured_servers() -> None:
    response = Client().get("/asyncapi/asyncapi.yaml")
    assert response["Content-Type"] == "application/yaml"
    text = response.content.decode()
    assert text.startswith("asyncapi:")
    assert "chat.example.com" in text


@override_settings(ASGI_APPLICATION=APP)
def test_docs_page_and_assets_work_offline() -> None:
    client = Client()
    page = client.get("/asyncapi/")
    assert page.status_code == 200
    assert "default-src" in page["Content-Security-Policy"]
    html = page.content.decode()
    assert 'src="/asyncapi/docs.js"' in html
    assert "https://" not in html.split("<script", 1)[0]  # nothing loaded from elsewhere
    assert client.get("/asyncapi/docs.js").status_code == 200
    assert client.get("/asyncapi/docs.css")["Content-Type"].startswith("text/css")
    assert client.get("/asyncapi/nope.js").status_code == 404
