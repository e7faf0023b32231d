"""Medians over runs, ratios to raw Starlette, and the table/JSON/CSV/PNG outputs."""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

from _targets import BASELINE, E2E_DIR, venv_python

# metric -> (scenario, column title, digits, is ratio taken)
METRICS: dict[str, tuple[str, str, int, bool]] = {
    "latency_p50_us": ("latency", "p50 µs", 0, True),
    "latency_p99_us": ("latency", "p99 µs", 0, False),
    "replies_per_s": ("throughput", "replies/s", 0, True),
    "server_cpu_us_per_reply": ("throughput", "CPU µs/reply", 1, True),
    "deliveries_per_s": ("broadcast", "bcast deliv/s", 0, True),
    "last_delivery_p50_ms": ("broadcast", "last deliv ms", 2, False),
    "bytes_per_idle_conn": ("memory", "KiB/idle conn", 1, True),
    "bytes_per_idle_conn_second_batch": ("memory", "KiB/conn, 2nd 1k", 1, True),
    "soak_ok": ("soak", "soak", 0, False),
    "hostile_ok": ("hostile-soak", "hostile soak", 0, False),
}
WORST_OF = {"lost_deliveries", "reordered", "bad_frames", "lost_echo", "lost_notify"}


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each numeric field over the successful runs; worst case for loss counters."""
    good = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {"runs_ok": len(good), "runs": len(runs)}
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        out["errors"] = errors
    if not good:
        return out
    for key in good[0]:
        values = [r[key] for r in good if key in r]
        if all(isinstance(v, bool) for v in values):
            out[key] = all(values)
        elif all(isinstance(v, int | float) for v in values):
            out[key] = max(values) if key in WORST_OF else statistics.median(values)
    return out


def summarise(raw: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for target, scenarios in raw.items():
        summary[target] = {s: combine(runs) for s, runs in scenarios.items()}
    base = summary.get(BASELINE, {})
    for metrics in summary.values():
        ratios: dict[str, float] = {}
        for metric, (scenario, _, _, with_ratio) in METRICS.items():
            mine = metrics.get(scenario, {}).get(metric)
            theirs = base.get(scenario, {}).get(metric)
            numbers = isinstance(mine, int | float) and isinstance(theirs, int | float)
            if with_ratio and numbers and theirs and not isinstance(mine, bool):
                ratios[metric] = mine / theirs
        metrics["ratios"] = ratios
    if BASELINE in summary:
        thr = summary[BASELINE].get("throughput", {})
        util = thr.get("client_cpu_util")
        if isinstance(util, float) and util > 0:
            summary[BASELINE]["client_ceiling_replies_per_s"] = thr["replies_per_s"] / util
    return summary


def cell(metrics: dict[str, Any], metric: str) -> str:
    scenario, _, digits, _ = METRICS[metric]
    block = metrics.get(scenario, {})
    value = block.get(metric)
    if value is None:
        return "error" if block.get("errors") else "-"
    if metric == "soak_ok":
        return (
            "ok"
            if value
            else f"FAIL ({block.get('lost_echo', 0)}+{block.get('lost_notify', 0)}"
            f" lost, {block.get('reordered', 0)} reord)"
        )
    if metric == "hostile_ok":
        return (
            "ok"
            if value
            else f"FAIL ({block.get('lost_well_behaved', 0)}+{block.get('lost_hostile', 0)}"
            f" lost, {block.get('reordered', 0)} reord, {block.get('error_frames_received', 0)}"
            f"/{block.get('malformed_sent', 0)} errors, {block.get('server_error_lines', 0)}"
            " ERROR lines)"
        )
    if metric.startswith("bytes_per_idle_conn"):
        value = value / 1024
    text = f"{value:,.{digits}f}"
    ratio = metrics.get("ratios", {}).get(metric)
    if ratio is not None:
        text += f" ({ratio:.2f}×)"
    if metric in {"replies_per_s", "deliveries_per_s"} and block.get("client_cpu_util", 0) > 0.9:
        text += " *"  # the load client was near its own limit: the figure is a lower bound
    if metric == "deliveries_per_s" and block.get("lost_deliveries"):
        text += f" [{block['lost_deliveries']} lost]"
    return text


def table_rows(summary: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    measured = {scenario for metrics in summary.values() for scenario in metrics}
    shown = [m for m, (scenario, *_) in METRICS.items() if scenario in measured]
    header = ["target"] + [METRICS[m][1] for m in shown]
    rows = [[name] + [cell(metrics, m) for m in shown] for name, metrics in summary.items()]
    return header, rows


def print_table(summary: dict[str, dict[str, Any]], document: dict[str, Any]) -> None:
    header, rows = table_rows(summary)
    title = f"chanx e2e ({document['mode']}, median of {document['runs']}; ×raw-starlette)"
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for name in header:
            table.add_column(name, justify="left" if name == "target" else "right")
        for row in rows:
            table.add_row(*row)
        Console(width=200).print(table)
    except ImportError:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        print(title)
        for row in [header, *rows]:
            print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                            enumerate(zip(row, widths, strict=True))))  # fmt: skip
    ceiling = summary.get(BASELINE, {}).get("client_ceiling_replies_per_s")
    if ceiling:
        util = summary[BASELINE]["throughput"]["client_cpu_util"]
        print(f"load client: {util:.0%} of its core at the raw-starlette rate, so its ceiling is"
              f" about {ceiling:,.0f} replies/s")  # fmt: skip
    print("* = load client above 90% of its core: the figure is a lower bound")
    for name, reason in document.get("skipped", {}).items():
        print(f"skipped {name}: {reason}")


def write_outputs(document: dict[str, Any], stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    summary = document["summary"]
    with stem.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["target", "scenario", "metric", "value", "ratio_to_raw_starlette"])
        for target, metrics in summary.items():
            for scenario, block in metrics.items():
                if not isinstance(block, dict) or scenario == "ratios":
                    continue
                for metric, value in block.items():
                    if isinstance(value, int | float):
                        ratio = metrics["ratios"].get(metric, "")
                        writer.writerow([target, scenario, metric, value, ratio])
    print_table(summary, document)
    png = stem.with_suffix(".png")
    if not any(metrics.get("ratios") for metrics in summary.values()):
        print(f"wrote {json_path}, {stem.with_suffix('.csv')} (no ratios to chart)")
        return
    try:
        proc = subprocess.run(
            [str(venv_python("client")), str(E2E_DIR / "chart.py"), str(json_path), str(png)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        message = proc.stdout.strip() or proc.stderr.strip().splitlines()[-1:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        message = f"chart skipped: {exc}"
    print(message if isinstance(message, str) else "chart skipped: " + " ".join(message))
    print(f"wrote {json_path}, {stem.with_suffix('.csv')}")
