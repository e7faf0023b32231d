"""Include-able URLs of the AsyncAPI docs: ``path("asyncapi/", include("chanx.django.urls"))``."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from chanx.django import views
from django.urls import path

__all__ = ["app_name", "urlpatterns"]

app_name = "chanx"

urlpatterns = [
    path("", views.asyncapi_docs, name="asyncapi-docs"),
    path("asyncapi.json", views.asyncapi_json, name="asyncapi-json"),
    path("asyncapi.yaml", views.asyncapi_yaml, name="asyncapi-yaml"),
    path("<str:name>", views.asyncapi_asset, name="asyncapi-asset"),
]
