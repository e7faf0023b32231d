"""System checks run by ``manage.py check`` (and ``runserver``)."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chanx.django._settings import parse_chanx_settings
from django.conf import settings
from django.core.checks import CheckMessage, Error

__all__ = ["check_chanx_settings"]


def check_chanx_settings(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Report a malformed ``settings.CHANX`` at startup rather than on the first connection."""
    try:
        parse_chanx_settings(getattr(settings, "CHANX", None))
    except (TypeError, ValueError) as exc:
        return [Error(str(exc), id="chanx.E001")]
    return []
