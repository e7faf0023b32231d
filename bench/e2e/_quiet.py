"""Other processes on the machine skew every figure: wait for a quiet moment, and say so."""

from __future__ import annotations

import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[0] + fields[1] + fields[2]) / CLOCK_TICKS


def machine_load(sample: float = 1.0) -> float:
    """Cores kept busy over the next ``sample`` seconds (by anything at all)."""
    b0, t0 = busy_seconds(), time.monotonic()
    time.sleep(sample)
    return (busy_seconds() - b0) / (time.monotonic() - t0)


def wait_quiet(max_cores: float, max_wait: float) -> float:
    """Wait until the machine uses at most ``max_cores``, or ``max_wait`` seconds pass.

    Returns the last load sampled, so the caller can record how quiet the start was.
    """
    deadline = time.monotonic() + max_wait
    load = machine_load()
    while load > max_cores and time.monotonic() < deadline:
        load = machine_load()
    return load
