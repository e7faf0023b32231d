"""What the runner can measure: the targets, their virtual environments, the scenario presets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent
BENCH_DIR = E2E_DIR.parent
REPO_DIR = BENCH_DIR.parent
APPS_DIR = E2E_DIR / "apps"
VENVS_DIR = BENCH_DIR / ".venvs"
RESULTS_DIR = BENCH_DIR / "results"

# Pinned so every server venv runs the same server stack as the workspace venv.
SERVER_STACK = ["uvicorn==0.54.0", "websockets==17.4", "uvloop", "httptools"]
VENV_PACKAGES: dict[str, list[str]] = {
    "client": ["picows", "uvloop", "matplotlib"],
    "fastchannels": ["fast-channels[redis]==1.1.0", "starlette==1.10.0", *SERVER_STACK],
    "chanx2": [
        "chanx[fast_channels]>=2,<3",
        "fast-channels[redis]",
        "fastapi==0.165.0",
        *SERVER_STACK,
    ],
}


def venv_python(venv: str) -> Path:
    if venv == "main":
        return REPO_DIR / ".venv" / "bin" / "python"
    return VENVS_DIR / venv / "bin" / "python"


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    venv: str
    layer: str = "memory"
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def uses_redis(self) -> bool:
        return self.layer == "redis"


TARGETS: list[Target] = [
    Target("raw-starlette", "raw_starlette", "main", "-", "ceiling: receive_text/send_text"),
    Target("starlette-pydantic", "starlette_pydantic", "main", "-", "TypeAdapter per frame"),
    Target("channels", "channels_app", "main", "memory", "Channels consumer, in-memory layer"),
    Target("channels-redis", "channels_app", "main", "redis", "Channels consumer, channels_redis"),
    Target("fast-channels", "fast_channels_app", "fastchannels", "memory"),
    Target("fast-channels-redis", "fast_channels_app", "fastchannels", "redis"),
    Target("chanx2-fastapi", "chanx2_fastapi", "chanx2", "memory", "chanx 2.x from PyPI"),
    Target(
        "chanx2-fastapi-redis",
        "chanx2_fastapi",
        "chanx2",
        "redis",
        "chanx 2.x, fast-channels Redis",
    ),
    Target("chanx-fastapi", "chanx_fastapi", "main", "memory"),
    Target("chanx-fastapi-redis", "chanx_fastapi", "main", "redis"),
    Target("chanx-django", "chanx_django", "main", "memory", "Channels in-memory layer"),
    Target("chanx-django-redis", "chanx_django", "main", "redis", "channels_redis"),
]
# BENCH_CHANX_BEFORE=DIR adds chanx-fastapi-before: the same apps served by the chanx
# packages of DIR, another commit's tree (`git archive REV packages | tar -x -C DIR`), so a
# change is measured before and after in one run.
CHANX_BEFORE = os.environ.get("BENCH_CHANX_BEFORE")
if CHANX_BEFORE:
    _before_src = [
        Path(CHANX_BEFORE, "packages", p, "src") for p in ("chanx-core", "chanx-fastapi")
    ]
    TARGETS.append(
        Target(
            "chanx-fastapi-before",
            "chanx_fastapi",
            "main",
            "memory",
            f"chanx packages of {CHANX_BEFORE}",
            env={"PYTHONPATH": os.pathsep.join(map(str, _before_src))},
        )
    )
TARGETS_BY_NAME = {t.name: t for t in TARGETS}
BASELINE = "raw-starlette"

SCENARIOS = ["latency", "throughput", "broadcast", "memory", "soak"]
# Run only when named (--scenarios hostile-soak): they need an app with rooms.
EXTRA_SCENARIOS = ["hostile-soak", "hostile-soak-amplified"]
# Correctness runs: one run each, not a median.
ONCE = {"soak", "hostile-soak", "hostile-soak-amplified"}
# The load client's scenario for a runner scenario that only changes its parameters.
LOADGEN_SCENARIO = {"hostile-soak-amplified": "hostile-soak"}
# Scenarios served by each target's rooms app.
ROOMS_SCENARIOS = {"hostile-soak", "hostile-soak-amplified"}
# Two extra sockets each send 20 frames/s of about 63 KiB: a list of wrong-typed items.
AMPLIFIERS = {"amplifiers": 2, "amplify-rate": 20, "amplify-bytes": 63 * 1024}
# The app each target serves the hostile soak with: rooms, chat and an error policy.
ROOMS_APPS = {
    "chanx-fastapi": "chanx_rooms",
    "chanx-fastapi-redis": "chanx_rooms",
    "chanx-fastapi-before": "chanx_rooms",
}

# Load-client arguments per scenario; "quick" is for development, "full" for published runs.
PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "quick": {
        "latency": {"pings": 1000, "warmup-pings": 200},
        "throughput": {"connections": 50, "window": 10, "warmup": 0.5, "duration": 2},
        "broadcast": {"members": 200, "window": 8, "duration": 2, "latency-rounds": 10},
        "memory": {"connections": 1000, "settle": 1},
        "soak": {"connections": 1000, "duration": 10},
        "hostile-soak": {"connections": 1000, "duration": 10, "rooms": 20},
        "hostile-soak-amplified": {"connections": 1000, "duration": 10, "rooms": 20, **AMPLIFIERS},
    },
    "full": {
        "latency": {"pings": 5000, "warmup-pings": 500},
        "throughput": {"connections": 50, "window": 10, "warmup": 1, "duration": 5},
        "broadcast": {"members": 200, "window": 8, "duration": 5, "latency-rounds": 30},
        "memory": {"connections": 1000, "settle": 2},
        "soak": {"connections": 1000, "duration": 60},
        "hostile-soak": {"connections": 1000, "duration": 60, "rooms": 20},
        "hostile-soak-amplified": {"connections": 1000, "duration": 60, "rooms": 20, **AMPLIFIERS},
    },
}


def scenario_budget(scenario: str, params: dict[str, float]) -> float:
    """Hard time limit in seconds for one load-client run of ``scenario``."""
    return 120.0 + 2 * params.get("duration", 0) + params.get("pings", 0) * 0.01
