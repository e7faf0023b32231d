"""The demo runs uvicorn with limits that match its consumers' (docs/production.md)."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("examples.chat.serve")


def test_the_server_buffers_no_larger_frame_than_the_consumers_accept(serve: ModuleType) -> None:
    consumers = importlib.import_module("examples.chat.consumers")
    settings = serve.server_settings()
    assert settings["ws_max_size"] == consumers.ChatConsumer.max_frame_bytes
    assert settings["ws_max_size"] == consumers.UserConsumer.max_frame_bytes
    assert settings["ws_max_size"] < 16 * 1024 * 1024  # uvicorn's default would buffer 16 MiB


def test_the_settings_bound_handshakes_and_connections(serve: ModuleType) -> None:
    settings = serve.server_settings()
    assert settings["limit_concurrency"] is not None
    assert settings["timeout_keep_alive"] <= 5
    assert settings["h11_max_incomplete_event_size"] <= 64 * 1024
    assert settings["proxy_headers"]
    assert "*" not in settings["forwarded_allow_ips"]
    config = uvicorn.Config("examples.chat.app:app", **settings)  # uvicorn accepts them all
    assert config.ws_max_size == settings["ws_max_size"]


def test_sockets_are_capped_by_the_consumers(serve: ModuleType) -> None:
    # uvicorn's limit_concurrency answers HTTP with 503 but lets WebSocket upgrades through
    consumers = importlib.import_module("examples.chat.consumers")
    for consumer in (consumers.ChatConsumer, consumers.UserConsumer):
        assert consumer.max_connections is not None
        assert consumer.max_connections_per_key is not None


def test_the_demo_starts_uvicorn_with_these_settings(
    serve: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = importlib.import_module("examples.chat.__main__")
    seen: dict[str, object] = {}
    monkeypatch.setattr(main.uvicorn, "run", lambda app, **options: seen.update(options))
    main.main()
    expected = serve.server_settings()
    assert {key: seen[key] for key in expected if key != "log_config"} == {
        key: value for key, value in expected.items() if key != "log_config"
    }
    assert seen["log_config"] == expected["log_config"]


def test_tokens_in_query_strings_are_kept_out_of_the_logs(serve: ModuleType) -> None:
    redact = serve.RedactQueryStrings()
    accepted = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws/chat/lobby?token=alice"),
        None,
    )
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/?token=secret&x=1", "1.1", 200),
        None,
    )
    for record in (accepted, access):
        assert redact.filter(record)
        assert "alice" not in record.getMessage()
        assert "secret" not in record.getMessage()
    assert '"WebSocket /ws/chat/lobby?…"' in accepted.getMessage()
    config = serve.log_config()
    assert all(handler["filters"] == ["redact"] for handler in config["handlers"].values())
