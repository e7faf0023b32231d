"""chanx-django against Django Channels' own consumer, end to end, in the same run.

    .venv/bin/python bench/django/run.py [--quick] [--runs N] [--redis] [--scenarios ...]

Both servers are the apps of bench/e2e (bench/e2e/apps/channels_app.py and chanx_django.py):
the same Channels routing, the same CHANNEL_LAYERS backend (Channels' in-memory layer, or
channels_redis with --redis), the same wire protocol, under uvicorn pinned to one core with
the load client on the other. This script runs the e2e harness for just those targets and
prints chanx-django ÷ Channels for each figure. Results: bench/results/django.{json,csv,png}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1]
E2E_RUN = BENCH / "e2e" / "run.py"
RESULTS = BENCH / "results"

# figure -> (scenario, label, higher is better)
FIGURES: dict[str, tuple[str, str, bool]] = {
    "replies_per_s": ("throughput", "ping/pong replies/s", True),
    "server_cpu_us_per_reply": ("throughput", "server CPU µs per reply", False),
    "latency_p50_us": ("latency", "ping/pong p50 latency µs", False),
    "deliveries_per_s": ("broadcast", "broadcast deliveries/s", True),
    "server_cpu_us_per_delivery": ("broadcast", "server CPU µs per delivery", False),
}
PAIRS = {False: ("channels", "chanx-django"), True: ("channels-redis", "chanx-django-redis")}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, one each")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario (default 3)")
    parser.add_argument("--redis", action="store_true", help="also compare on channels_redis")
    parser.add_argument("--scenarios", default="latency,throughput,broadcast")
    parser.add_argument("--output", default=str(RESULTS / "django"))
    parser.add_argument(
        "harness_args", nargs="*", help="passed to bench/e2e/run.py after --, e.g. -- --no-setup"
    )
    return parser.parse_args(argv)


def ratio(chanx: float | None, channels: float | None, higher_is_better: bool) -> float | None:
    if not chanx or not channels:
        return None
    return chanx / channels if higher_is_better else channels / chanx


def report(summary: dict[str, Any], with_redis: bool) -> list[dict[str, Any]]:
    rows = []
    for redis in [False, True] if with_redis else [False]:
        base, ours = PAIRS[redis]
        for figure, (scenario, label, higher) in FIGURES.items():
            theirs = summary.get(base, {}).get(scenario, {}).get(figure)
            mine = summary.get(ours, {}).get(scenario, {}).get(figure)
            rows.append(
                {
                    "layer": "channels_redis" if redis else "in-memory",
                    "figure": label,
                    "channels": theirs,
                    "chanx_django": mine,
                    "advantage": ratio(mine, theirs, higher),
                }
            )
    return rows


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not E2E_RUN.exists():
        print(f"expected the end-to-end harness at {E2E_RUN}, but it is missing")
        return 2
    targets = [*PAIRS[False], *(PAIRS[True] if args.redis else ())]
    cmd = [sys.executable, str(E2E_RUN), "--targets", ",".join(targets)]
    cmd += ["--scenarios", args.scenarios, "--output", args.output]
    if args.quick:
        cmd.append("--quick")
    if args.runs:
        cmd += ["--runs", str(args.runs)]
    cmd += args.harness_args
    print("$", " ".join(cmd), flush=True)
    if subprocess.run(cmd, check=False).returncode != 0:
        return 1
    document = json.loads(Path(args.output).with_suffix(".json").read_text())
    rows = report(document["summary"], args.redis)
    print("\nchanx-django vs Channels' AsyncJsonWebsocketConsumer (advantage > 1: chanx is better)")
    for row in rows:
        adv = row["advantage"]
        shown = f"{adv:5.2f}×" if adv is not None else "   - "
        theirs, mine = row["channels"], row["chanx_django"]
        print(
            f"  {row['layer']:15} {row['figure']:28} {shown}   "
            f"(Channels {theirs if theirs is None else round(theirs, 1)}, "
            f"chanx-django {mine if mine is None else round(mine, 1)})"
        )
    Path(args.output).with_name("django-ratios.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
