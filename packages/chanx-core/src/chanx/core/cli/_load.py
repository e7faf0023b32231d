"""``module:attribute`` to an app object, with errors that say what to fix."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__all__ = ["AppLoadError", "load_app"]

_DEFAULT_ATTRIBUTES = ("app", "application")


class AppLoadError(Exception):
    """APP does not name an importable object."""


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise AppLoadError(
                f"cannot import module {module_name!r} (looked in the current directory "
                f"{os.getcwd()!r} and on sys.path); run chanx from the project root"
            ) from None
        raise AppLoadError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise AppLoadError(f"importing {module_name!r} raised {exc!r}") from exc


def load_app(spec: str) -> Any:
    """The object named by ``spec``, ``package.module:attribute``.

    A bare ``package.module`` means its ``app`` (or ``application``) attribute.
    """
    module_name, _, attribute = spec.strip().partition(":")
    if not module_name or (":" in spec and not attribute) or attribute.count(":"):
        raise AppLoadError(
            "expected APP as 'module:attribute', e.g. 'myapp.main:app' or "
            f"'myproject.asgi:application', but got {spec!r}"
        )
    # Like uvicorn: APP is found relative to where the command runs.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = _import(module_name)
    names = attribute.split(".") if attribute else None
    if names is None:
        found = next((n for n in _DEFAULT_ATTRIBUTES if hasattr(module, n)), None)
        if found is None:
            raise AppLoadError(
                f"module {module_name!r} has neither 'app' nor 'application'; "
                f"name the attribute: '{module_name}:<attribute>'"
            )
        names = [found]
    obj: Any = module
    for i, name in enumerate(names):
        if not hasattr(obj, name):
            where = ".".join([module_name, *names[:i]])
            public = sorted(n for n in dir(obj) if not n.startswith("_"))[:20]
            raise AppLoadError(
                f"{where!r} has no attribute {name!r} (it has: {', '.join(public) or 'nothing'})"
            )
        obj = getattr(obj, name)
    return obj
