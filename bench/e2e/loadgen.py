"""Load client: one scenario against one running server, result as one JSON line on stdout.

Runs in bench/.venvs/client (picows + uvloop), pinned by run.py to its own core. Reads the
server's CPU time and RSS from /proc at the edges of each measured window, so start-up and
connection set-up never count.

Wire protocol every target speaks (see bench/README.md):
  {"action":"ping","payload":null}            -> {"action":"pong","payload":null}
  {"action":"echo","payload":{"seq":N}}       -> {"action":"echo","payload":{"seq":N}}
  {"action":"broadcast","payload":{"seq":N}}  -> every member of group "bench" (sender too)
                                                 gets {"action":"notify","payload":{"seq":N}}
hostile-soak adds rooms ({url}/room/{n}, apps/chanx_rooms.py):
  {"action":"chat","payload":{"sender":S,"seq":N,"text":T}}
      -> every member of the sender's room gets {"action":"room_chat","payload":{...same}}
  {"action":"tag","payload":{"tags":[...]}}   (only the amplifiers send it, wrong-typed)
      -> one validation_error frame
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from _lg_common import (
    Conn,
    ServerProbe,
    connect_many,
    machine_busy_seconds,
    percentile,
    run_bounded,
)

PING = b'{"action":"ping","payload":null}'


class Window:
    """Wall, client CPU, server CPU and whole-machine CPU at the edges of a measured window."""

    def __init__(self, probe: ServerProbe) -> None:
        self.probe = probe
        self.wall, self.client, self.server, self.machine = self._read()

    def _read(self) -> tuple[float, float, float, float]:
        return (
            time.perf_counter(),
            time.process_time(),
            self.probe.cpu_seconds(),
            machine_busy_seconds(),
        )

    def close(self) -> dict[str, float]:
        wall, client, server, machine = self._read()
        elapsed = wall - self.wall
        server_s, client_s = server - self.server, client - self.client
        return {
            "elapsed_s": elapsed,
            "server_cpu_s": server_s,
            "server_cpu_util": server_s / elapsed,
            "client_cpu_util": client_s / elapsed,
            # CPU used by anything else on the machine: noise from other processes.
            "other_cpu_util": max(0.0, (machine - self.machine) - server_s - client_s) / elapsed,
        }


async def scenario_latency(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    conns = await connect_many(args.url, 1)
    conn = conns[0]
    rtts: list[float] = []
    window = Window(probe)
    try:
        for i in range(args.warmup_pings + args.pings):
            t = time.perf_counter_ns()
            conn.send(PING)
            frame = await conn.next_frame(5.0)
            if b"pong" not in frame:
                raise RuntimeError(f"expected a pong frame, but got {frame[:200]!r}")
            if i >= args.warmup_pings:
                rtts.append((time.perf_counter_ns() - t) / 1000.0)
    finally:
        await conn.close()
    edges = window.close()
    rtts.sort()
    return {
        **edges,
        "latency_p50_us": percentile(rtts, 50),
        "latency_p99_us": percentile(rtts, 99),
        "latency_mean_us": sum(rtts) / len(rtts),
        "pings": len(rtts),
    }


async def scenario_throughput(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    conns = await connect_many(args.url, args.connections)
    counts = {"replies": 0, "bad": 0}
    running = [True]

    def on_text(conn: Conn, payload: bytes) -> None:
        if b"pong" in payload:
            counts["replies"] += 1
        else:
            counts["bad"] += 1
            if counts["bad"] == 1:
                counts["first_bad"] = payload[:200].decode(errors="replace")  # type: ignore[assignment]
        if running[0]:
            conn.send(PING)

    try:
        for conn in conns:
            conn.on_text = on_text
        for conn in conns:
            for _ in range(args.window):
                conn.send(PING)
        await asyncio.sleep(args.warmup)
        r0, window = counts["replies"], Window(probe)
        await asyncio.sleep(args.duration)
        r1, edges = counts["replies"], window.close()
        running[0] = False
        replies = r1 - r0
        if replies <= 0:
            raise RuntimeError(f"no replies in the measured window (bad frames: {counts['bad']})")
        return {
            "replies_per_s": replies / edges["elapsed_s"],
            "server_cpu_us_per_reply": edges["server_cpu_s"] * 1e6 / replies,
            **edges,
            "bad_frames": counts["bad"],
            "first_bad": counts.get("first_bad"),
            "connections": len(conns),
            "window": args.window,
        }
    finally:
        running[0] = False
        await asyncio.gather(*(c.close() for c in conns))


def notify_seq(payload: bytes) -> int | None:
    """The seq of a notify frame, or None for anything else.

    Parsed by hand rather than with json.loads: at 100k+ deliveries/s the client's own
    parsing would otherwise become the bottleneck. Tolerates the spaces json.dumps adds.
    """
    if b'"notify"' not in payload:
        return None
    at = payload.rfind(b'"seq"')
    if at < 0:
        return None
    try:
        return int(payload[at + 5 :].lstrip(b" :").split(b"}", 1)[0])
    except ValueError:
        return None


class BroadcastTracker:
    """Counts notify frames per receiver and flags any gap or reordering."""

    def __init__(self, members: int) -> None:
        self.members = members
        self.expected = [0] * members
        self.delivered: list[int] = []
        self.last_at: dict[int, float] = {}
        self.disorder = 0
        self.bad = 0
        self.total = 0
        self.on_complete: Callable[[int], None] = lambda seq: None

    def on_text(self, index: int, payload: bytes) -> None:
        seq = notify_seq(payload)
        if seq is None:
            self.bad += 1
            return
        if seq != self.expected[index]:
            self.disorder += 1
        self.expected[index] = seq + 1
        self.total += 1
        delivered = self.delivered
        if seq >= len(delivered):
            delivered.extend([0] * (seq + 1024 - len(delivered)))
        count = delivered[seq] = delivered[seq] + 1
        if count == self.members:
            self.last_at[seq] = time.perf_counter()
            self.on_complete(seq)


def broadcast_frame(seq: int) -> bytes:
    return b'{"action":"broadcast","payload":{"seq":%d}}' % seq


async def scenario_broadcast(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    conns = await connect_many(args.url, args.members)
    tracker = BroadcastTracker(len(conns))
    try:
        for index, conn in enumerate(conns):
            conn.on_text = lambda c, p, i=index: tracker.on_text(i, p)
        sender = conns[0]
        loop = asyncio.get_running_loop()

        # Phase 1: isolated broadcasts, time from send to the last member's delivery.
        last_delivery_ms: list[float] = []
        seq = 0
        for _ in range(args.latency_rounds):
            done = loop.create_future()
            tracker.on_complete = lambda s, f=done: f.done() or f.set_result(s)
            t = time.perf_counter()
            sender.send(broadcast_frame(seq))
            await asyncio.wait_for(done, timeout=10.0)
            last_delivery_ms.append((time.perf_counter() - t) * 1000.0)
            seq += 1

        # Phase 2: a window of broadcasts in flight for a fixed time, then drain.
        in_flight = [0]
        next_seq = [seq]
        sending = [True]
        idle = asyncio.Event()

        def on_complete(_: int) -> None:
            in_flight[0] -= 1
            if sending[0]:
                sender.send(broadcast_frame(next_seq[0]))
                next_seq[0] += 1
                in_flight[0] += 1
            elif in_flight[0] == 0:
                idle.set()

        tracker.on_complete = on_complete
        first_seq = seq
        start_total = tracker.total
        window = Window(probe)
        w0 = window.wall
        for _ in range(args.window):
            sender.send(broadcast_frame(next_seq[0]))
            next_seq[0] += 1
            in_flight[0] += 1
        await asyncio.sleep(args.duration)
        sending[0] = False
        drained = True
        try:
            await asyncio.wait_for(idle.wait(), timeout=args.drain_timeout)
        except TimeoutError:
            drained = False
        edges = window.close()
        w1 = time.perf_counter()
        sent = next_seq[0] - first_seq
        delivered = tracker.total - start_total
        end = max(tracker.last_at.values(), default=w1) if drained else w1
        last_delivery_ms.sort()
        return {
            "deliveries_per_s": delivered / (end - w0),
            "server_cpu_us_per_delivery": edges["server_cpu_s"] * 1e6 / max(delivered, 1),
            **edges,
            "last_delivery_p50_ms": percentile(last_delivery_ms, 50),
            "last_delivery_max_ms": last_delivery_ms[-1],
            "broadcasts": sent,
            "lost_deliveries": sent * len(conns) - delivered,
            "reordered": tracker.disorder,
            "bad_frames": tracker.bad,
            "members": len(conns),
        }
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def scenario_memory(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    # One connection first, so lazily imported code and caches do not count as per-socket cost.
    warm = await connect_many(args.url, 1)
    await warm[0].roundtrip(PING)
    await warm[0].close()
    await asyncio.sleep(args.settle)
    # Free heap left from start-up would hold the first sockets without growing RSS, and
    # how much there is differs by server, not by cost per socket: every server collects
    # and trims its heap first (SIGUSR1, bench/e2e/_site/sitecustomize.py).
    untrimmed = probe.rss_bytes()
    os.kill(probe.pid, signal.SIGUSR1)
    await asyncio.sleep(args.settle)
    before = probe.rss_bytes()
    conns = await connect_many(args.url, args.connections)
    try:
        await asyncio.gather(*(c.roundtrip(PING) for c in conns))
        await asyncio.sleep(args.settle)
        after = probe.rss_bytes()
        # A second batch as large: what one more idle socket costs once the heap space the
        # server freed before the first batch (start-up garbage, still resident) is used
        # up. The first figure counts that space as free, so a server that starts larger
        # looks cheaper per socket.
        more = await connect_many(args.url, args.connections)
        conns += more
        await asyncio.gather(*(c.roundtrip(PING) for c in more))
        await asyncio.sleep(args.settle)
        second = probe.rss_bytes()
        return {
            "bytes_per_idle_conn": (after - before) / len(more),
            "bytes_per_idle_conn_second_batch": (second - after) / len(more),
            "rss_untrimmed_mb": untrimmed / 2**20,
            "rss_before_mb": before / 2**20,
            "rss_after_mb": after / 2**20,
            "rss_after_second_batch_mb": second / 2**20,
            "connections": len(more),
        }
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def scenario_soak(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    from _lg_soak import run_soak

    return await run_soak(args, probe)


async def scenario_hostile_soak(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    from _lg_hostile_soak import run_hostile_soak

    return await run_hostile_soak(args, probe)


SCENARIOS = {
    "latency": scenario_latency,
    "throughput": scenario_throughput,
    "broadcast": scenario_broadcast,
    "memory": scenario_memory,
    "soak": scenario_soak,
    "hostile-soak": scenario_hostile_soak,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--url", required=True)
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--timeout", type=float, default=300.0, help="hard limit for the scenario")
    p.add_argument("--pings", type=int, default=5000)
    p.add_argument("--warmup-pings", type=int, default=500)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--latency-rounds", type=int, default=30)
    p.add_argument("--drain-timeout", type=float, default=15.0)
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--echo-interval", type=float, default=0.2)
    p.add_argument("--broadcast-interval", type=float, default=0.5)
    # hostile-soak: rooms, per-socket rates (frames/s), and one hostile socket in N
    p.add_argument("--rooms", type=int, default=20)
    p.add_argument("--hostile-every", type=int, default=10)
    p.add_argument("--echo-rate", type=float, default=3.0)
    p.add_argument("--ping-rate", type=float, default=1.0)
    p.add_argument("--chat-rate", type=float, default=0.08)
    p.add_argument("--malformed-rate", type=float, default=1.0)
    # hostile-soak: extra sockets sending wrong-typed lists (error-frame amplification)
    p.add_argument("--amplifiers", type=int, default=0)
    p.add_argument("--amplify-rate", type=float, default=20.0, help="frames/s per amplifier")
    p.add_argument("--amplify-bytes", type=int, default=63 * 1024)
    p.add_argument(
        "--rss-slope-limit",
        type=float,
        default=1.0,
        help="MiB/min over the last half; checked only in runs of 30 s or more",
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    probe = ServerProbe(args.server_pid)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run_bounded(SCENARIOS[args.scenario](args, probe), args.timeout))
    result["scenario"] = args.scenario
    result["client_pid"] = os.getpid()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
