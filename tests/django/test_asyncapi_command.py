# mypy: disable-error-code="import-untyped"
"""``manage.py chanx_asyncapi``: the document of the consumers a Channels app routes."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("chanx_asyncapi", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_json_document_of_the_routed_consumers() -> None:
    text = run("--app", "tests.django.project.application", "--title", "Chat", "--server",
               "ws://localhost:8000")  # fmt: skip
    document = json.loads(text)
    assert document["asyncapi"].startswith("3.")
    assert document["info"]["title"] == "Chat"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {"/ws/chat/{room_id}/", "/ws/notifications/", "/ws/plain/{slug}/"} <= addresses


def test_yaml_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "asyncapi.yaml"
    run("--app", "tests.django.project.application", "--format", "yaml", "-o", str(target))
    assert target.read_text().startswith("asyncapi:")


def test_a_bad_app_path_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="expected --app to name an ASGI application"):
        run("--app", "tests.django.nope.application")
