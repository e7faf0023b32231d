"""What the runner can measure: the targets, their virtual environments, the scenario presets."""

from __future__ import annotations

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
TARGETS_BY_NAME = {t.name: t for t in TARGETS}
BASELINE = "raw-starlette"

SCENARIOS = ["latency", "throughput", "broadcast", "memory", "soak"]
# Run only when named (--scenarios hostile-soak): they need an app with rooms.
EXTRA_SCENARIOS = ["hostile-soak"]
# Correctness runs: one run each, not a median.
ONCE = {"soak", "hostile-soak"}
# The app each target serves the hostile soak with: rooms, chat and an error policy.
ROOMS_APPS = {"chanx-fastapi": "chanx_rooms", "chanx-fastapi-redis": "chanx_rooms"}

# Load-client arguments per scenario; "quick" is for development, "full" for published runs.
PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "quick": {
        "latency": {"pings": 1000, "warmup-pings": 200},
        "throughput": {"connections": 50, "window": 10, "warmup": 0.5, "duration": 2},
        "broadcast": {"members": 200, "window": 8, "duration": 2, "latency-rounds": 10},
        "memory": {"connections": 1000, "settle": 1},
        "soak": {"connections": 1000, "duration": 10},
        "hostile-soak": {"connections": 1000, "duration": 10, "rooms": 20},
    },
    "full": {
        "latency": {"pings": 5000, "warmup-pings": 500},
        "throughput": {"connections": 50, "window": 10, "warmup": 1, "duration": 5},
        "broadcast": {"members": 200, "window": 8, "duration": 5, "latency-rounds": 30},
        "memory": {"connections": 1000, "settle": 2},
        "soak": {"connections": 1000, "duration": 60},
        "hostile-soak": {"connections": 1000, "duration": 60, "rooms": 20},
    },
}


def scenario_budget(scenario: str, params: dict[str, float]) -> float:
    """Hard time limit in seconds for one load-client run of ``scenario``."""
    return 120.0 + 2 * params.get("duration", 0) + params.get("pings", 0) * 0.01
