"""The ``chanx`` command: AsyncAPI documents, docs pages and route tables of an app.

Needs the ``cli`` extra (``pip install "chanx-core[cli]"``): typer and rich.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_EXTRA_HINT = 'the chanx command needs the cli extra: pip install "chanx-core[cli]"'


def main() -> None:
    """Run the ``chanx`` command line."""
    try:
        from chanx.core.cli._app import app
    except ImportError as exc:
        if exc.name in {"typer", "rich", "click"}:
            sys.exit(f"{_EXTRA_HINT} ({exc.name} is missing)")
        raise
    app()
