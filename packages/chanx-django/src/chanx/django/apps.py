"""The Django app: add ``"chanx.django"`` to ``INSTALLED_APPS``."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

__all__ = ["ChanxDjangoConfig"]


class ChanxDjangoConfig(AppConfig):  # type: ignore[misc]
    """Registers the check of ``settings.CHANX`` (and, later, management commands)."""

    name = "chanx.django"
    label = "chanx_django"
    verbose_name = "Chanx"

    def ready(self) -> None:
        """Register system checks."""
        from chanx.django._checks import check_chanx_settings

        checks.register(check_chanx_settings)
