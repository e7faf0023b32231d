"""Instructions per pydantic step of a typed ping → pong, counted by callgrind.

The three pydantic calls every typed round trip makes in chanx: validating the frame
(the consumer's compiled validator of its inbound union), constructing the reply in the
handler (``PongMessage()``) and encoding it (the model's serializer, called as chanx's
encoder calls it). Each runs in a loop under ``valgrind --tool=callgrind``, counting on
only around the loop, twice
(``--short`` and ``--long`` iterations), and the difference divided by the extra
iterations is the figure: start-up and the loop's edges cancel out. ``pass`` gives the
loop's own cost. Compare with ``bench/e2e/instructions.py`` (a whole server, per reply).

Run: ``.venv/bin/python bench/micro/pydantic_ops.py`` (needs valgrind; about a minute).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SETUP = """
from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, routes_of
from chanx.core import ws_handler

class Consumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

validate = routes_of(Consumer).ws.validate_json  # what the consumer runs on each frame
frame = '{"action":"ping","payload":null}'
pong = PongMessage()
serializer = PongMessage.__pydantic_serializer__
"""
OPS = {
    "loop alone (pass)": "pass",
    "validate the frame": "validate(frame)",
    "PongMessage()": "PongMessage()",
    "encode the reply": "serializer.to_json(pong, by_alias=True).decode()",
}


def child(stmt: str, n: int) -> None:
    """Run ``stmt`` ``n`` times with callgrind counting on (inside valgrind)."""
    scope: dict[str, object] = {}
    exec(SETUP, scope)
    loop = compile(f"for _ in range({n}):\n    {stmt}\n", "<op>", "exec")
    exec(loop, scope)  # warm caches once
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], check=True, capture_output=True)
    exec(loop, scope)
    subprocess.run([*switch, "off", str(os.getpid())], check=True, capture_output=True)


def count(stmt: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "log")
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={log}",
             f"--callgrind-out-file={Path(tmp, 'out')}",
             sys.executable, __file__, "--child", stmt, str(n)],
            check=True, timeout=600, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", log.read_text())
        if found is None:
            raise RuntimeError(f"no instruction count for {stmt!r}")
        return int(found.group(1))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        return child(argv[1], int(argv[2]))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--short", type=int, default=500)
    p.add_argument("--long", type=int, default=2500)
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind (callgrind_control): apt-get install valgrind")
    for label, stmt in OPS.items():
        per_op = (count(stmt, args.long) - count(stmt, args.short)) / (args.long - args.short)
        print(f"{label:<24} {per_op:>8,.0f} instructions", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
