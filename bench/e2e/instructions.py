"""Instructions per reply of each target's server, counted by callgrind: a figure without noise.

The timed runs (`run.py`) move by tens of percent on a shared VM, so a change of a few
percent in the server's cost cannot be seen in them. This script serves each target under
``valgrind --tool=callgrind`` (instrumentation off while the server starts), opens
``--connections`` sockets, sends a warm-up, then switches counting on for exactly
``--pings`` ping → pong round trips (``--window`` in flight per socket) and off again. The
server's user-space instructions divided by the replies is the figure; the ratio to raw
Starlette is printed beside it. ``--scenario broadcast``: the first socket sends
``--broadcasts`` broadcast frames one at a time, each read by every socket (the sender
included) before the next; the figure is per delivery. What it leaves out: the kernel's
time (the socket reads and writes, the same for every target: it pulls time ratios
towards 1) and the cost per instruction (cache and branch misses: they pull a large code
base's time ratio away from 1). bench/README.md gives figures of both.

Run: ``.venv/bin/python bench/e2e/instructions.py --targets raw-starlette,chanx-fastapi``
(``BENCH_CHANX_BEFORE=DIR`` adds chanx-fastapi-before, as for run.py). Needs valgrind and
the workspace venv's ``websockets``. About 20 s per target for the default 4,000 pings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _server import free_port, target_env, wait_listening
from _targets import APPS_DIR, BASELINE, TARGETS_BY_NAME, Target, venv_python
from websockets.asyncio.client import ClientConnection, connect

PING = '{"action":"ping","payload":null}'


async def round_trips(sockets: list[ClientConnection], pings: int, window: int) -> None:
    """``pings`` ping → pong round trips spread over ``sockets``, ``window`` in flight each."""

    async def one(ws: ClientConnection, n: int) -> None:
        sent = min(window, n)
        for _ in range(sent):
            await ws.send(PING)
        for _ in range(n):
            await ws.recv()
            if sent < n:
                await ws.send(PING)
                sent += 1

    share, extra = divmod(pings, len(sockets))
    await asyncio.gather(*(one(ws, share + (i < extra)) for i, ws in enumerate(sockets)))


async def broadcasts(sockets: list[ClientConnection], count: int, first: int) -> None:
    """``count`` broadcasts from the first socket, each read by every socket before the next."""
    for seq in range(first, first + count):
        await sockets[0].send(f'{{"action":"broadcast","payload":{{"seq":{seq}}}}}')
        for ws in sockets:
            reply = await ws.recv()
            if '"notify"' not in reply:
                raise RuntimeError(f"expected a notify frame, got {reply!r:.200}")


def callgrind(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, timeout=60,
                   capture_output=True)  # fmt: skip


async def drive(pid: int, port: int, args: argparse.Namespace) -> None:
    url = f"ws://127.0.0.1:{port}/ws"
    sockets = [await connect(url, open_timeout=120) for _ in range(args.connections)]
    try:
        if args.scenario == "broadcast":
            await asyncio.wait_for(broadcasts(sockets, 20, 0), 300)
            callgrind(pid, "on")
            await asyncio.wait_for(broadcasts(sockets, args.broadcasts, 20), 600)
        else:
            await asyncio.wait_for(round_trips(sockets, args.connections * 20, args.window), 300)
            callgrind(pid, "on")
            await asyncio.wait_for(round_trips(sockets, args.pings, args.window), 600)
        callgrind(pid, "off")
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


def measure(target: Target, args: argparse.Namespace) -> float:
    """User-space instructions per reply of ``target``'s server."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "valgrind.log")
        cmd = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={log}",
            f"--callgrind-out-file={Path(tmp, 'callgrind.out')}",
            str(venv_python(target.venv)), "-m", "uvicorn", f"{target.module}:app",
            "--app-dir", str(APPS_DIR), "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, env=target_env(target, "benchinstr"),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_listening(proc, port, timeout=300)
            asyncio.run(drive(proc.pid, port, args))
        finally:
            proc.terminate()
            proc.wait(timeout=120)
        found = re.search(r"Collected : (\d+)", log.read_text())
        if found is None:
            raise RuntimeError(f"{target.name}: no instruction count in the valgrind log")
        done = args.broadcasts * args.connections if args.scenario == "broadcast" else args.pings
        return int(found.group(1)) / done


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", default=f"{BASELINE},chanx-fastapi")
    p.add_argument("--scenario", choices=["ping", "broadcast"], default="ping")
    p.add_argument("--pings", type=int, default=4000)
    p.add_argument("--broadcasts", type=int, default=200, help="broadcast: sent, one at a time")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind (callgrind_control): apt-get install valgrind")
    names = [n for n in args.targets.split(",") if n]
    unknown = [n for n in names if n not in TARGETS_BY_NAME]
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(unknown)}")
    figures: dict[str, float] = {}
    for name in names:
        figures[name] = measure(TARGETS_BY_NAME[name], args)
        unit = "delivery" if args.scenario == "broadcast" else "reply"
        print(f"{name:<24} {figures[name]:>10,.0f} instructions/{unit}", flush=True)
    base = figures.get(BASELINE)
    if base:
        print(f"\nratio to {BASELINE} (instructions, not time: see bench/README.md):")
        for name, value in figures.items():
            ratio, work = value / base, base / value
            print(f"{name:<24} {ratio:>6.3f}× the instructions ({work:.3f}× the work)")
    if args.output:
        args.output.write_text(
            json.dumps(
                {
                    "instructions_per_reply": figures,
                    "scenario": args.scenario,
                    "pings": args.pings,
                    "broadcasts": args.broadcasts,
                    "connections": args.connections,
                    "window": args.window,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
