"""Create the benchmark's own virtual environments with uv, and describe the environment."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess

from _targets import REPO_DIR, VENV_PACKAGES, VENVS_DIR, venv_python

VERSION_PACKAGES = [
    "uvicorn", "websockets", "uvloop", "starlette", "fastapi", "pydantic", "django",
    "channels", "channels-redis", "redis", "fast-channels", "chanx", "chanx-core",
    "chanx-fastapi", "chanx-django", "picows",
]  # fmt: skip


def ensure_venvs(venvs: set[str]) -> None:
    """Create any missing benchmark venv (never touches the workspace .venv)."""
    uv = shutil.which("uv")
    for name in sorted(venvs - {"main"}):
        if venv_python(name).exists():
            continue
        if uv is None:
            raise SystemExit(f"bench venv {name!r} is missing and uv is not on PATH")
        path = VENVS_DIR / name
        print(f"creating {path} ...", flush=True)
        subprocess.run([uv, "venv", "--python", "3.11", str(path)], check=True, timeout=300)
        subprocess.run(
            [uv, "pip", "install", "--python", str(venv_python(name)), *VENV_PACKAGES[name]],
            check=True,
            timeout=900,
        )


def package_versions(venv: str) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {VERSION_PACKAGES!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    try:
        proc = subprocess.run(
            [str(venv_python(venv)), "-c", code],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        versions: dict[str, str] = json.loads(proc.stdout)
        return versions
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def uncommitted_code() -> list[str]:
    """Files under packages/ that differ from the commit: the run measured those too."""
    try:
        lines = subprocess.run(
            ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "packages"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.splitlines()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ["unknown"]
    return [line.strip() for line in lines]


def environment_info(venvs: set[str]) -> dict[str, object]:
    import os

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "uncommitted_packages": uncommitted_code(),
        "server": "uvicorn --ws websockets-sansio --loop uvloop --http httptools, taskset -c 0",
        "client": "picows + uvloop, taskset -c 1",
        "versions": {v: package_versions(v) for v in sorted(venvs | {"client"})},
    }
