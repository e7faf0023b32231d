"""Bar chart of each target's ratio to raw Starlette, from bench/results/e2e.json.

Run by run.py with the client venv's python (matplotlib lives there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PANELS = [
    ("replies_per_s", "pipelined replies/s (higher is better)"),
    ("server_cpu_us_per_reply", "server CPU per reply (lower is better)"),
    ("deliveries_per_s", "broadcast deliveries/s (higher is better)"),
    ("bytes_per_idle_conn", "memory per idle connection (lower is better)"),
]


def main(source: Path, target: Path) -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("chart skipped: matplotlib is not installed in the client venv")
        return 0
    summary = json.loads(source.read_text())["summary"]
    names = list(summary)
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 3.2 * len(PANELS)))
    for ax, (metric, title) in zip(axes, PANELS, strict=True):
        values = [summary[n].get("ratios", {}).get(metric, 0.0) for n in names]
        colors = ["#c44" if n.startswith("chanx-") else "#888" for n in names]
        bars = ax.barh(names, values, color=colors)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_title(f"{title}, × raw Starlette", fontsize=10)
        ax.invert_yaxis()
        for bar, value in zip(bars, values, strict=True):
            if value:
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.2f}×",
                        va="center", fontsize=8)  # fmt: skip
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    print(f"wrote chart {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
