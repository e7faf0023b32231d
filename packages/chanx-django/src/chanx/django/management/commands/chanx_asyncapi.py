"""``manage.py chanx_asyncapi``: write the AsyncAPI 3.0 document of the project's consumers."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from pathlib import Path
from typing import Any

from chanx.core.asyncapi import build_asyncapi, to_json, to_yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string


class Command(BaseCommand):  # type: ignore[misc]
    """Build the document from the app's routes (through the Django adapter) and write it."""

    help = (
        "Write the AsyncAPI 3.0 document of the Chanx consumers routed by the ASGI "
        "application (ASGI_APPLICATION, or --app)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Options: the app, the format, the output file and the document's info."""
        parser.add_argument("--app", help="dotted path of the ASGI application")
        parser.add_argument("--format", choices=["json", "yaml"], default="json")
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument("--title", help="info.title")
        parser.add_argument("--api-version", dest="api_version", help="info.version")
        parser.add_argument("--description", help="info.description")
        parser.add_argument(
            "--server", action="append", dest="servers", help="server URL (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the document to ``--output`` or stdout."""
        app = self._application(options["app"])
        document = build_asyncapi(
            app,
            title=options["title"],
            version=options["api_version"],
            description=options["description"],
            servers=options["servers"],
        )
        if not document.get("channels"):
            self.stderr.write("warning: no Chanx consumer found in the application's routes")
        text = to_yaml(document) if options["format"] == "yaml" else to_json(document) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {options['output']}")
        else:
            self.stdout.write(text, ending="")

    def _application(self, dotted: str | None) -> Any:
        if dotted:
            try:
                return import_string(dotted)
            except ImportError as exc:
                raise CommandError(
                    f"expected --app to name an ASGI application, but got {dotted!r}: {exc}"
                ) from exc
        from channels.routing import get_default_application

        try:
            return get_default_application()
        except Exception as exc:
            raise CommandError(f"{exc}; set ASGI_APPLICATION or pass --app") from exc
