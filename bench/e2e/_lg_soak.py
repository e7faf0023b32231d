"""Mixed-traffic soak: many sockets echoing numbered frames while broadcasts fan out.

Every socket sends ``echo`` frames with its own rising ``seq`` (at most ``window`` unanswered)
and must get them back in order; socket 0 also triggers a numbered broadcast every
``broadcast_interval`` seconds that every socket must receive in order. At the end the
senders stop and the client waits for the stragglers, then counts what never came back and
what came back out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from _lg_common import ServerProbe, connect_many

WINDOW = 4


class SoakState:
    def __init__(self, count: int) -> None:
        self.echo_sent = [0] * count
        self.echo_next = [0] * count
        self.notify_next = [0] * count
        self.echo_received = 0
        self.notify_received = 0
        self.reordered = 0
        self.bad = 0
        self.first_bad: str | None = None

    def on_text(self, index: int, payload: bytes) -> None:
        try:
            message = json.loads(payload)
            action = message["action"]
            seq = message["payload"]["seq"]
        except (ValueError, KeyError, TypeError):
            action, seq = None, None
        if action == "echo":
            if seq != self.echo_next[index]:
                self.reordered += 1
            self.echo_next[index] = seq + 1
            self.echo_received += 1
        elif action == "notify":
            if seq != self.notify_next[index]:
                self.reordered += 1
            self.notify_next[index] = seq + 1
            self.notify_received += 1
        else:
            self.bad += 1
            if self.first_bad is None:
                self.first_bad = payload[:200].decode(errors="replace")


async def run_soak(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    conns = await connect_many(args.url, args.connections)
    count = len(conns)
    state = SoakState(count)
    for index, conn in enumerate(conns):
        conn.on_text = lambda c, p, i=index: state.on_text(i, p)
    tick = 0.02
    per_tick = max(1, round(count * tick / args.echo_interval))
    broadcasts = 0
    skipped = 0
    cursor = 0
    next_broadcast = 0.0
    w0, s0 = time.perf_counter(), probe.cpu_seconds()
    deadline = w0 + args.duration
    try:
        while (now := time.perf_counter()) < deadline:
            for _ in range(per_tick):
                i = cursor % count
                cursor += 1
                if state.echo_sent[i] - state.echo_next[i] >= WINDOW:
                    skipped += 1
                    continue
                conns[i].send(b'{"action":"echo","payload":{"seq":%d}}' % state.echo_sent[i])
                state.echo_sent[i] += 1
            if now >= next_broadcast:
                conns[0].send(b'{"action":"broadcast","payload":{"seq":%d}}' % broadcasts)
                broadcasts += 1
                next_broadcast = now + args.broadcast_interval
            await asyncio.sleep(tick)
        echo_total = sum(state.echo_sent)
        drain_until = time.perf_counter() + args.drain_timeout
        # Polling, not an event: the drain is bounded and happens once per run.
        while time.perf_counter() < drain_until and (  # noqa: ASYNC110
            state.echo_received < echo_total or state.notify_received < broadcasts * count
        ):
            await asyncio.sleep(0.05)
        w1, s1 = time.perf_counter(), probe.cpu_seconds()
        disconnected = sum(1 for c in conns if c.closed_by_peer)
        lost_echo = echo_total - state.echo_received
        lost_notify = broadcasts * count - state.notify_received
        return {
            "soak_ok": lost_echo == 0
            and lost_notify == 0
            and state.reordered == 0
            and state.bad == 0
            and disconnected == 0,
            "duration_s": args.duration,
            "connections": count,
            "echo_sent": echo_total,
            "lost_echo": lost_echo,
            "broadcasts": broadcasts,
            "lost_notify": lost_notify,
            "reordered": state.reordered,
            "bad_frames": state.bad,
            "first_bad": state.first_bad,
            "closed_by_server": disconnected,
            "sends_skipped_window_full": skipped,
            "server_cpu_util": (s1 - s0) / (w1 - w0),
        }
    finally:
        await asyncio.gather(*(c.close() for c in conns))
