"""The ``chanx`` commands (typer + rich)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from chanx.core._routing import routes_of
from chanx.core.asyncapi import (
    build_asyncapi,
    discover_routes,
    render_docs_html,
    to_json,
    to_yaml,
)
from chanx.core.asyncapi._plan import output_messages
from chanx.core.cli._load import AppLoadError, load_app
from chanx.core.cli._validate import ParserMissingError, run_parser

__all__ = ["app"]

app = typer.Typer(
    name="chanx",
    help="Chanx: AsyncAPI documents, docs pages and route tables of your app.",
    no_args_is_help=True,
    add_completion=False,
    # Plain click help: typer's rich help labels every option with its Python type, flags
    # included (`--help <bool>`). Each option names its value with a metavar instead.
    rich_markup_mode=None,
)
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

AppArgument = Annotated[
    str,
    typer.Argument(
        metavar="APP",
        help="The app as module:attribute, e.g. myapp.main:app or myproject.asgi:application.",
        show_default=False,
    ),
]
TitleOption = Annotated[
    str | None, typer.Option(metavar="TEXT", help="info.title (default: the app's).")
]
VersionOption = Annotated[
    str | None, typer.Option(metavar="TEXT", help="info.version (default: the app's).")
]
ServerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--server", metavar="URL", help="A server URL such as wss://example.com (repeatable)."
    ),
]


class Format(StrEnum):
    json = "json"
    yaml = "yaml"


def fail(message: str, code: int = 2) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def _document(spec: str, title: str | None, version: str | None, servers: list[str] | None) -> Any:
    try:
        target = load_app(spec)
        return build_asyncapi(target, title=title, version=version, servers=servers or None)
    except AppLoadError as exc:
        fail(str(exc))
    except (TypeError, ValueError) as exc:
        fail(f"{spec}: {exc}")


@app.command()
def asyncapi(
    application: AppArgument,
    format: Annotated[
        Format, typer.Option("--format", "-f", metavar="json|yaml", help="Output format.")
    ] = Format.json,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
    title: TitleOption = None,
    version: VersionOption = None,
    server: ServerOption = None,
) -> None:
    """Print (or write) the AsyncAPI 3.0 document of APP."""
    document = _document(application, title, version, server)
    text = to_yaml(document) if format is Format.yaml else to_json(document) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    stderr.print(f"wrote {output}")


@app.command()
def docs(
    application: AppArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="DIR", help="Directory for index.html and the document."
        ),
    ],
    title: TitleOption = None,
    version: VersionOption = None,
    server: ServerOption = None,
) -> None:
    """Write a static, offline docs page of APP (opens from file://)."""
    document = _document(application, title, version, server)
    output.mkdir(parents=True, exist_ok=True)
    (output / "index.html").write_text(render_docs_html(document), encoding="utf-8")
    (output / "asyncapi.json").write_text(to_json(document) + "\n", encoding="utf-8")
    (output / "asyncapi.yaml").write_text(to_yaml(document), encoding="utf-8")
    stderr.print(f"wrote {output / 'index.html'} (with asyncapi.json and asyncapi.yaml)")


def _names(models: Any) -> str:
    return ", ".join(getattr(m, "__name__", str(m)) for m in models) or "-"


@app.command()
def routes(application: AppArgument) -> None:
    """Show the websocket routes of APP: consumers, handlers and message types."""
    try:
        found = discover_routes(load_app(application))
    except AppLoadError as exc:
        fail(str(exc))
    except TypeError as exc:
        fail(f"{application}: {exc}")
    table = Table(title=f"Chanx routes of {application}", show_lines=True)
    for column in ("Path", "Consumer", "Handler", "Receives", "Sends"):
        table.add_column(column, overflow="fold")
    for route in found:
        consumer = route.consumer
        label = f"{consumer.__module__}.{consumer.__qualname__}"
        auth = consumer.authenticator_class
        if auth is not None:
            label += f"\nauth: {auth.__name__}"
        rows: list[tuple[str, str, str]] = []
        routes = routes_of(consumer)
        for handler in routes.ws.handlers:
            replies = output_messages(handler.output_type)
            rows.append((handler.name, _names(handler.input_types), _names(replies)))
        for handler in routes.event.handlers:
            pushed = output_messages(handler.output_type)
            rows.append((f"{handler.name} (event)", _names(handler.input_types), _names(pushed)))
        if consumer.emits:
            rows.append(("(emits)", "-", _names(consumer.emits)))
        if not rows:
            rows.append(("-", "-", "-"))
        for i, (handler_name, receives, sends) in enumerate(rows):
            first = i == 0
            table.add_row(
                route.path if first else "", label if first else "", handler_name, receives, sends
            )
    if not found:
        stdout.print(f"{application} has no Chanx websocket routes")
        return
    stdout.print(table)


@app.command()
def validate(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="An AsyncAPI document (JSON or YAML).", show_default=False
        ),
    ],
    parser_path: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="A node_modules directory holding @asyncapi/parser."),
    ] = None,
) -> None:
    """Validate FILE with the official AsyncAPI parser (needs node)."""
    if not file.is_file():
        fail(f"expected an AsyncAPI file, but {str(file)!r} does not exist")
    try:
        result = run_parser(file, parser_path=parser_path)
    except ParserMissingError as exc:
        fail(str(exc), code=3)
    except RuntimeError as exc:
        fail(str(exc))
    for diagnostic in result.diagnostics:
        severity = diagnostic.get("severity", "?")
        if severity not in {"error", "warning"}:
            continue
        where = "/".join(diagnostic.get("path", [])) or "(document)"
        stdout.print(f"{severity}: {where}: {diagnostic.get('message')}", markup=False)
    if not result.valid:
        fail(f"{file} is not a valid AsyncAPI document ({len(result.errors)} errors)", code=1)
    stdout.print(f"{file} is a valid AsyncAPI document", markup=False)
