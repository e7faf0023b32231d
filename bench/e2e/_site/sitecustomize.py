"""Loaded by every benchmark server (bench/e2e/_server.py puts this folder on PYTHONPATH).

SIGUSR1 makes the server collect garbage and hand its free heap back to the kernel
(glibc's ``malloc_trim``), then report on stderr. The memory scenario sends it before
taking its baseline, so that free heap left over from start-up, which differs from one
server to another, is not counted as room for the first sockets. Every target gets the
same treatment. Without glibc the handler only collects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import signal
import sys
from types import FrameType

_libc_name = ctypes.util.find_library("c")
_trim = getattr(ctypes.CDLL(_libc_name), "malloc_trim", None) if _libc_name else None


def _collect_and_trim(signum: int, frame: FrameType | None) -> None:
    gc.collect()
    trimmed = bool(_trim(0)) if _trim is not None else False
    print(f"bench: gc.collect() done, malloc_trim released memory: {trimmed}", file=sys.stderr)


signal.signal(signal.SIGUSR1, _collect_and_trim)
