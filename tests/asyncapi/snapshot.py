"""JSON snapshots in tests/asyncapi/snapshots/: compare, or write with CHANX_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, data: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    update = os.environ.get("CHANX_UPDATE_SNAPSHOTS") == "1"
    if update or (not path.exists() and not IN_CI):
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"snapshot {path} is missing; CI=true never creates snapshots")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{name}.json (snapshot)",
                f"{name}.json (now)",
            )
        )
        pytest.fail(
            f"the document differs from its snapshot (CHANX_UPDATE_SNAPSHOTS=1 rewrites it):\n"
            f"{diff}",
            pytrace=False,
        )
