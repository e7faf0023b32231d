"""The guide parser, and that every guide the runner follows is marked up (fast, no venvs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.guides.markdown import guide_steps
from tests.guides.runner import GUIDES, ROOT, Workspace, server_command

PAGE = """\
# Guide

<!-- guide: install -->
```bash
pip install "chanx-fastapi[standard]"  # a comment
```

<!-- file: main.py -->
```python
app = 1
```

<!-- file: main.py (append) -->
```python
more = 2
```

<!-- not-run: explains only -->
```python
nothing()
```

<!-- guide: serve /ws/x?token=a -->
```bash
uvicorn main:app
```

<!-- guide: shell -->
```bash
pytest -q
```
"""


def write(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "guide.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_steps_in_page_order(tmp_path: Path) -> None:
    steps = guide_steps(write(tmp_path, PAGE))
    assert [(s.kind, s.target) for s in steps] == [
        ("install", ""),
        ("file", "main.py"),
        ("append", "main.py"),
        ("serve", "/ws/x?token=a"),
        ("shell", ""),
    ]
    assert steps[1].block.code == "app = 1\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<!-- guide: install -->\n```bash\nnpm i x\n```\n", "runs `pip install` only"),
        ("<!-- guide: install -->\n```bash\npip install x\n```\n```python\nx\n```\n", "without"),
        ("<!-- guide: serve ws -->\n```bash\nuvicorn a:b\n```\n", "guide: serve /ws/path"),
        ("<!-- guide: build -->\n```bash\nmake\n```\n", "unknown guide marker"),
        ("```bash\necho no install\n```\n", "no `<!-- guide: install -->` block"),
    ],
)
def test_malformed_guides_are_refused(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        guide_steps(write(tmp_path, text))


@pytest.mark.parametrize("name", GUIDES)
def test_every_guide_parses_and_runs_its_tests(name: str) -> None:
    kinds = {step.kind for step in guide_steps(ROOT / name)}
    assert "shell" in kinds, f"{name} never runs its tests"


def test_server_commands_get_a_port() -> None:
    assert server_command(["uvicorn", "main:app"], 8123) == [
        "uvicorn",
        "main:app",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
    ]
    assert server_command(["daphne", "mysite.asgi:application"], 8123) == [
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        "8123",
        "mysite.asgi:application",
    ]


def test_a_guide_shell_sees_its_own_venv_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_bin = str(Path(sys.prefix) / "bin")
    monkeypatch.setenv("PATH", os.pathsep.join([own_bin, "/usr/bin"]))
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    ws = Workspace(tmp_path / "p", tmp_path / "v", tmp_path / "w", tmp_path / "c.txt")
    env = ws.env()
    assert env["PATH"].split(os.pathsep) == [str(tmp_path / "v" / "bin"), "/usr/bin"]
    assert env["VIRTUAL_ENV"] == str(tmp_path / "v")
    assert "PYTHONPATH" not in env
    assert "DJANGO_SETTINGS_MODULE" not in env
