"""The offline docs page: one HTML page, the renderer's own JS and CSS, the document inside.

Nothing is loaded from elsewhere. The document travels as JSON data (never as markup), and
the renderer inserts every name and docstring as text, so a ``<script>`` in a docstring is
shown, not run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["DOCS_ASSETS", "DOCS_CSP", "docs_asset", "render_docs_html", "to_json"]

#: Files the page loads from ``asset_base`` when they are not inlined.
DOCS_ASSETS = ("docs.css", "docs.js")
#: Content-Security-Policy for the page served with ``asset_base`` from the same origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MEDIA_TYPES = {"docs.css": "text/css; charset=utf-8", "docs.js": "text/javascript; charset=utf-8"}


@cache
def docs_asset(name: str) -> tuple[str, str]:
    """The text and media type of one of `DOCS_ASSETS`."""
    if name not in _MEDIA_TYPES:
        raise KeyError(f"expected one of {DOCS_ASSETS}, but got {name!r}")
    text = (files("chanx.core.asyncapi") / "static" / name).read_text(encoding="utf-8")
    return text, _MEDIA_TYPES[name]


def to_json(document: Any, *, indent: int | None = 2) -> str:
    """The document as JSON text (UTF-8, keys in document order)."""
    return json.dumps(document, indent=indent, ensure_ascii=False)


def _embedded_json(document: Any) -> str:
    # Inside <script type="application/json"> only "</script" or "<!--" could end the data
    # early; escaping every "<" (and ">" and "&" for good measure) makes that impossible.
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def render_docs_html(
    document: Any, *, asset_base: str | None = None, document_url: str | None = None
) -> str:
    """A page rendering ``document`` in the browser, with no network access needed.

    Args:
        document: The AsyncAPI document (a dict, as `build_asyncapi` returns).
        asset_base: URL prefix serving `DOCS_ASSETS` (``/asyncapi`` gives
            ``/asyncapi/docs.js``); None inlines them, so the page stands alone (and opens
            from ``file://``) under a strict inline Content-Security-Policy.
        document_url: Fetch the document from here instead of embedding it.
    """
    info = document.get("info", {}) if isinstance(document, dict) else {}
    title = html.escape(f"{info.get('title') or 'AsyncAPI'} — AsyncAPI")
    css, _ = docs_asset("docs.css")
    js, _ = docs_asset("docs.js")
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
    ]
    if asset_base is None:
        if "</" in js or "</" in css:
            raise RuntimeError("the docs assets cannot be inlined: they contain '</'")
        policy = (
            f"default-src 'none'; script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        )
        if document_url is not None:
            policy += "; connect-src 'self'"
        head.append(f'<meta http-equiv="Content-Security-Policy" content="{policy}">')
        head.append(f"<style>{css}</style>")
        script = f"<script>{js}</script>"
    else:
        base = html.escape(asset_base.rstrip("/"), quote=True)
        head.append(f'<link rel="stylesheet" href="{base}/docs.css">')
        script = f'<script src="{base}/docs.js"></script>'
    if document_url is None:
        embedded = _embedded_json(document)
        data = f'<script type="application/json" id="asyncapi-document">{embedded}</script>'
        root = '<div id="chanx-asyncapi"><p class="muted">Loading…</p></div>'
    else:
        data = ""
        url = html.escape(document_url, quote=True)
        root = f'<div id="chanx-asyncapi" data-document-url="{url}"><p>Loading…</p></div>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n'
        + "\n".join(head)
        + f"\n<title>{title}</title>\n</head>\n<body>\n{root}\n{data}\n{script}\n</body>\n</html>\n"
    )
