"""Views serving the AsyncAPI document of the project's consumers and its offline docs page.

Include them with ``path("asyncapi/", include("chanx.django.urls"))``: the page is then at
``/asyncapi/``, the document at ``/asyncapi/asyncapi.json`` and ``/asyncapi/asyncapi.yaml``.
The document is built on each request from ``ASGI_APPLICATION``'s routes, so it always
matches what is mounted; ``CHANX["ASYNCAPI_*"]`` settings fill in its info and servers.
"""

# mypy: disable-error-code="import-untyped, misc, untyped-decorator"
from __future__ import annotations

from typing import Any

from chanx.core.asyncapi import DOCS_CSP, build_asyncapi, docs_asset, render_docs_html, to_yaml
from chanx.django._settings import chanx_settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

__all__ = ["asyncapi_asset", "asyncapi_docs", "asyncapi_json", "asyncapi_yaml"]


def _document(request: HttpRequest) -> dict[str, Any]:
    from channels.routing import get_default_application

    options = chanx_settings()
    servers = options.ASYNCAPI_SERVERS
    if servers is None:  # the host answering this request is the best guess
        scheme = "wss" if request.is_secure() else "ws"
        servers = [f"{scheme}://{request.get_host()}"]
    return build_asyncapi(
        get_default_application(),
        title=options.ASYNCAPI_TITLE,
        version=options.ASYNCAPI_VERSION,
        description=options.ASYNCAPI_DESCRIPTION,
        servers=list(servers),
    )


@require_GET
def asyncapi_json(request: HttpRequest) -> HttpResponse:
    """The AsyncAPI 3.0 document as JSON."""
    return JsonResponse(_document(request), json_dumps_params={"ensure_ascii": False})


@require_GET
def asyncapi_yaml(request: HttpRequest) -> HttpResponse:
    """The AsyncAPI 3.0 document as YAML."""
    return HttpResponse(to_yaml(_document(request)), content_type="application/yaml")


@require_GET
def asyncapi_docs(request: HttpRequest) -> HttpResponse:
    """The offline docs page (no CDN); its script and styles are served beside it."""
    page = render_docs_html(_document(request), asset_base=request.path.rstrip("/"))
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = DOCS_CSP
    return response


@require_GET
def asyncapi_asset(request: HttpRequest, name: str) -> HttpResponse:
    """``docs.js`` or ``docs.css`` of the docs page."""
    try:
        text, media_type = docs_asset(name)
    except KeyError:
        raise Http404(f"no docs asset {name!r}") from None
    response = HttpResponse(text, content_type=media_type)
    response["Cache-Control"] = "no-cache"
    return response
