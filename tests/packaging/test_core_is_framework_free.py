"""chanx.core imports no web framework, even where every framework is installed.

A fresh interpreter installs an import hook that refuses the frameworks, imports chanx.core
and every module below it, and reports what ended up in ``sys.modules``. Modules that need
an optional extra (msgspec, the CLI's typer/rich) are reported when it is missing. Backends
live in their own distributions, so core imports no backend's client library either.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import IN_CI

FRAMEWORKS = ("starlette", "fastapi", "django", "channels", "daphne", "uvicorn")
# Refused like the frameworks: the Redis layer lives in chanx-redis.
BACKEND_LIBRARIES = ("redis", "hiredis")
OPTIONAL_EXTRAS = ("msgspec", "typer", "rich", "prometheus_client")

_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    FRAMEWORKS, OPTIONAL = {frameworks!r}, {optional!r}

    attempted, imported, needs_extra = [], [], {{}}
    already_loaded = set(sys.modules)  # e.g. by a .pth file at startup: not chanx's doing

    class RefuseFrameworks:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in FRAMEWORKS:
                attempted.append(name)
                raise ModuleNotFoundError(f"chanx.core imported {{name}}", name=name)
            return None

    sys.meta_path.insert(0, RefuseFrameworks())

    def visit(name):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if (exc.name or "").partition(".")[0] not in OPTIONAL:
                raise
            needs_extra[name] = exc.name
            return
        imported.append(name)
        for info in pkgutil.iter_modules(getattr(module, "__path__", []), name + "."):
            if not info.name.endswith(".__main__"):
                visit(info.name)

    visit("chanx.core")
    leaked = sorted(
        m for m in set(sys.modules) - already_loaded if m.partition(".")[0] in FRAMEWORKS
    )
    report = {{
        "attempted": attempted, "imported": imported, "needs_extra": needs_extra, "leaked": leaked
    }}
    print(json.dumps(report))
    """
).format(frameworks=FRAMEWORKS + BACKEND_LIBRARIES, optional=OPTIONAL_EXTRAS)


def test_core_imports_without_frameworks() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, f"importing chanx.core failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print("imported:", ", ".join(report["imported"]))
    print("skipped for a missing optional extra:", report["needs_extra"] or "none")

    assert report["leaked"] == [], f"chanx.core pulled in frameworks: {report['leaked']}"
    # Even a guarded `try: import starlette` breaks the rule (ruff's TID251 bans it too).
    assert report["attempted"] == [], f"chanx.core tried to import {report['attempted']}"
    assert "chanx.core" in report["imported"]
    # Every CI environment installs chanx-core with all its extras, so nothing may be skipped.
    if IN_CI:
        assert report["needs_extra"] == {}, f"optional extras missing: {report['needs_extra']}"
