"""The ``chanx`` command, driven with typer's CliRunner against apps written to a temp dir."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chanx.core.cli import main
from chanx.core.cli._app import app
from tests.asyncapi.conftest import AsyncAPIParser

APP_SOURCE = '''
from __future__ import annotations

from typing import Literal

from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute

from chanx.core import BaseEvent, BaseMessage, PingMessage, PongMessage, event_handler, ws_handler
from chanx.fastapi import AsyncJsonWebsocketConsumer


class Said(BaseMessage):
    """Someone said <b>something</b>."""

    action: Literal["said"] = "said"
    payload: str


class SaidEvent(BaseEvent):
    type: Literal["said_event"] = "said_event"
    text: str


class TalkConsumer(AsyncJsonWebsocketConsumer):
    """Talk in a room."""

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @event_handler
    async def said(self, event: SaidEvent) -> Said:
        return Said(payload=event.text)


app = Starlette(
    routes=[Mount("/ws", routes=[WebSocketRoute("/talk/{room}", TalkConsumer.as_asgi())])]
)
not_an_app = 42
'''


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module holding a Starlette app, importable from the current directory."""
    name = f"cli_app_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(APP_SOURCE, encoding="utf-8")
    (tmp_path / f"{name}_broken.py").write_text("import no_such_dependency_xyz\n")
    (tmp_path / f"{name}_empty.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield name
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_asyncapi_json_to_stdout(
    runner: CliRunner, project: str, asyncapi_parser: AsyncAPIParser
) -> None:
    result = runner.invoke(app, ["asyncapi", f"{project}:app", "--server", "ws://localhost:1"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["channels"]["talk"]["address"] == "/ws/talk/{room}"
    assert document["servers"]["default"]["host"] == "localhost:1"
    asyncapi_parser.assert_valid(document)


def test_asyncapi_yaml_to_file(runner: CliRunner, project: str, tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    out = tmp_path / "out" / "asyncapi.yaml"
    result = runner.invoke(
        app, ["asyncapi", f"{project}:app", "-f", "yaml", "-o", str(out), "--title", "Talk"]
    )
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text())
    json_result = runner.invoke(app, ["asyncapi", f"{project}:app", "--title", "Talk"])
    assert document == json.loads(json_result.stdout)
    assert document["info"]["title"] == "Talk"


def test_module_alone_means_its_app(runner: CliRunner, project: str) -> None:
    result = runner.invoke(app, ["asyncapi", project])
    assert result.exit_code == 0, result.output
    assert "talk" in json.loads(result.stdout)["channels"]


def test_docs_writes_a_static_page(runner: CliRunner, project: str, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["docs", f"{project}:app", "--output", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert "<b>something</b>" not in page  # the docstring travels as escaped JSON
    assert "\\u003cb\\u003esomething" in page
    assert 'id="asyncapi-document"' in page
    assert "http://" not in page
    assert "https://" not in page
    assert json.loads((out / "asyncapi.json").read_text())["channels"]["talk"]
    assert (out / "asyncapi.yaml").is_file()


def test_routes_table(runner: CliRunner, project: str) -> None:
    result = runner.invoke(app, ["routes", f"{project}:app"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("/ws/talk/{room}", "TalkConsumer", "ping", "PingMessage", "PongMessage"):
        assert text in result.stdout
    assert "said (event)" in result.stdout
    assert "SaidEvent" in result.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_xyz:app", "cannot import module 'no_such_module_xyz'"),
        ("{project}:missing", "has no attribute 'missing'"),
        ("{project}_empty", "has neither 'app' nor 'application'"),
        ("{project}_broken:app", "importing '{project}_broken' failed"),
        ("{project}:not_an_app", "expected an application of an installed framework"),
        (":app", "expected APP as 'module:attribute'"),
        ("{project}:", "expected APP as 'module:attribute'"),
    ],
)
def test_bad_app_paths_are_explained(
    runner: CliRunner, project: str, spec: str, message: str
) -> None:
    for command in (["asyncapi"], ["routes"]):
        result = runner.invoke(app, [*command, spec.format(project=project)])
        assert result.exit_code == 2, result.output
        assert message.format(project=project) in " ".join(result.stderr.split())
        assert "Traceback" not in result.output


def test_validate_accepts_a_valid_document(
    runner: CliRunner, project: str, tmp_path: Path, parser_node_modules: Path
) -> None:
    path = tmp_path / "doc.json"
    runner.invoke(app, ["asyncapi", f"{project}:app", "-o", str(path)])
    result = runner.invoke(app, ["validate", str(path), "--parser-path", str(parser_node_modules)])
    assert result.exit_code == 0, result.output
    assert "is a valid AsyncAPI document" in result.stdout


def test_validate_reports_errors(
    runner: CliRunner, tmp_path: Path, parser_node_modules: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("asyncapi: 3.0.0\ninfo:\n  title: x\nchannels:\n  a:\n    address: 1\n")
    result = runner.invoke(app, ["validate", str(path), "--parser-path", str(parser_node_modules)])
    assert result.exit_code == 1, result.output
    assert "error:" in result.stdout
    assert "is not a valid AsyncAPI document" in result.stderr


def test_validate_without_node_says_so(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doc.json"
    path.write_text("{}")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 3
    assert "node is not installed" in result.stderr


def test_validate_without_parser_gives_the_install_command(
    runner: CliRunner, tmp_path: Path
) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    path = tmp_path / "doc.json"
    path.write_text("{}")
    result = runner.invoke(app, ["validate", str(path), "--parser-path", str(tmp_path)])
    assert result.exit_code == 3
    assert "npm install --prefix" in result.stderr
    assert "@asyncapi/parser@" in result.stderr


def test_validate_given_the_npm_prefix_names_its_node_modules(
    runner: CliRunner, tmp_path: Path
) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    package = tmp_path / "node_modules" / "@asyncapi" / "parser"
    package.mkdir(parents=True)
    (package / "package.json").write_text("{}")  # what npm install --prefix tmp_path leaves
    path = tmp_path / "doc.json"
    path.write_text("{}")
    result = runner.invoke(app, ["validate", str(path), "--parser-path", str(tmp_path)])
    assert result.exit_code == 3
    unwrapped = "".join(result.stderr.split())  # the terminal may fold a long path
    assert f"pass--parser-path{tmp_path / 'node_modules'}" in unwrapped


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_main_without_the_cli_extra_gives_an_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "chanx.core.cli._app")
    monkeypatch.setitem(sys.modules, "typer", None)
    with pytest.raises(SystemExit) as exc_info:
        main()
    assert 'pip install "chanx-core[cli]"' in str(exc_info.value.code)


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "chanx"]
    assert script.value == "chanx.core.cli:main"


@pytest.mark.parametrize("command", [[], ["asyncapi"], ["docs"], ["routes"], ["validate"]])
def test_help_names_values_instead_of_python_types(command: list[str]) -> None:
    # Seen: `chanx --help` listed `--help <bool>` (typer's rich help shows Python types).
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Show this message and exit." in result.output
    for python_type in ("<bool>", "<list[str]>", "<str | None>", "<Path"):
        assert python_type not in result.output, result.output
