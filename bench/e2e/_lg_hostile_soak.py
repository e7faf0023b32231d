"""Hostile soak: sockets in rooms chat, ping, echo and get broadcasts while some send garbage.

Every socket joins one of ``rooms`` rooms (``{url}/room/{n}``) and, at fixed average rates,
sends numbered ``echo`` frames, ``ping`` frames and numbered ``chat`` frames that every member
of its room (itself too) must receive as ``room_chat``; socket 0 sends a numbered broadcast
to everyone every ``broadcast_interval`` seconds. One socket in ``hostile_every`` (spread
over the rooms) also sends malformed frames (see ``_lg_malformed``). With ``amplifiers``,
that many extra sockets (members of the rooms like any other) each send ``amplify_rate``
frames a second of about ``amplify_bytes``: a ``tag`` frame whose list holds nothing but
wrong-typed items, the frame that once drew an error frame fifty times its size.

The server handles a socket's frames in order, so the direct replies (echo, pong, error) of
a socket must come back in the order the frames went out: each socket keeps a queue of the
replies it expects and checks every reply against its head, so a missing, extra or wrong
reply (an error frame of the wrong code or without the request's ``ref``) is caught. The
error for an oversized frame may be sent before the handler reaches earlier frames, so it is
counted apart. Pushes are checked per sender: chat per (receiver, sender), broadcasts per
receiver, each must rise by one. The server's RSS and CPU are sampled every second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter, deque
from typing import Any

from _lg_common import Conn, ServerProbe, connect_many, machine_busy_seconds
from _lg_hostile_report import summarise_hostile
from _lg_malformed import CATALOGUE, FRAME_TOO_LARGE
from picows import WSMsgType

ECHO_WINDOW = 4  # unanswered echoes per socket before its next echo is skipped
REPLY_WINDOW = 16  # unanswered direct replies per socket before it sends nothing more
TICK = 0.02


class Pacer:
    """Hands out sockets, round robin, at ``rate`` sends per second on average."""

    def __init__(self, rate: float, members: list[int]) -> None:
        self.rate = rate
        self.members = members
        self.credit = 0.0
        self.cursor = 0

    def due(self, elapsed: float) -> list[int]:
        if not self.members:
            return []
        self.credit += self.rate * elapsed
        count = int(self.credit)
        self.credit -= count
        picked = []
        for _ in range(count):
            picked.append(self.members[self.cursor % len(self.members)])
            self.cursor += 1
        return picked


class HostileState:
    def __init__(self, count: int, rooms: int, hostile_every: int, amplifiers: int = 0) -> None:
        self.room = [i % rooms for i in range(count)]
        # Every hostile_every-th member of each room, so every room has some; the
        # amplifiers are the last sockets.
        self.hostile = [(i // rooms) % hostile_every == 1 for i in range(count - amplifiers)]
        self.hostile += [True] * amplifiers
        self.amplifier = [False] * (count - amplifiers) + [True] * amplifiers
        self.amplify_reply_bytes: list[int] = []
        self.room_size = Counter(self.room)
        self.pending: list[deque[tuple[str, str | None, float]]] = [deque() for _ in range(count)]
        self.echo_sent = [0] * count
        self.echo_next = [0] * count
        self.chat_sent = [0] * count
        self.chat_next: list[dict[int, int]] = [{} for _ in range(count)]
        self.notify_next = [0] * count
        self.notify_count = [0] * count
        self.chat_count = [0] * count
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.malformed_sent: Counter[str] = Counter()
        self.errors_received: Counter[str] = Counter()
        self.too_large_expected = [0] * count
        self.too_large_received = [0] * count
        self.too_large_sent_at: list[deque[float]] = [deque() for _ in range(count)]
        # frame_too_large errors that arrived before the replies to earlier frames
        self.too_large_overtook = 0
        # per socket: replies that did not match, pushes out of order, pushes from another room
        self.mismatched = [0] * count
        self.reordered = [0] * count
        self.cross_room = 0
        self.unexpected = 0
        self.samples: list[str] = []
        self.reply_ms: list[float] = []
        self.sent_amplify_bytes = 0
        self.bystander_reply_ms: list[float] = []

    def note(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(text[:240])

    def on_text(self, i: int, raw: bytes) -> None:
        if self.amplifier[i] and raw.startswith(b'{"action":"error"'):
            self.amplify_reply_bytes.append(len(raw))
        try:
            message = json.loads(raw)
            action = message["action"]
            payload = message["payload"]
        except (ValueError, KeyError, TypeError):
            self.unexpected += 1
            self.note(f"socket {i}: unparsable {raw[:200]!r}")
            return
        if action == "room_chat":
            self.on_chat(i, payload)
        elif action == "notify":
            seq = payload["seq"]
            if seq != self.notify_next[i]:
                self.reordered[i] += 1
            self.notify_next[i] = seq + 1
            self.notify_count[i] += 1
            self.received["notify"] += 1
        elif action in {"echo", "pong", "error"}:
            self.on_reply(i, action, payload, message.get("ref"))
        else:
            self.unexpected += 1
            self.note(f"socket {i}: unexpected {raw[:200]!r}")

    def on_chat(self, i: int, payload: dict[str, Any]) -> None:
        sender, seq = payload["sender"], payload["seq"]
        if self.room[sender] != self.room[i]:
            self.cross_room += 1
            self.note(f"socket {i}: chat from socket {sender} of another room")
            return
        expected = self.chat_next[i].get(sender, 0)
        if seq != expected:
            self.reordered[i] += 1
        self.chat_next[i][sender] = seq + 1
        self.chat_count[i] += 1
        self.received["room_chat"] += 1

    def on_reply(self, i: int, action: str, payload: Any, ref: Any) -> None:
        got = payload["code"] if action == "error" else action
        queue = self.pending[i]
        if got == FRAME_TOO_LARGE:
            self.too_large_received[i] += 1
            self.errors_received[got] += 1
            sent = self.too_large_sent_at[i]
            if sent and queue and queue[0][2] < sent.popleft():
                self.too_large_overtook += 1
            return
        if not queue:
            self.mismatched[i] += 1
            self.note(f"socket {i}: reply {got!r} with nothing outstanding")
            return
        want, want_ref, sent_at = queue.popleft()
        took_ms = (time.perf_counter() - sent_at) * 1000.0
        self.reply_ms.append(took_ms)
        if not self.hostile[i]:
            self.bystander_reply_ms.append(took_ms)
        if got != want or (want_ref is not None and ref != want_ref):
            self.mismatched[i] += 1
            self.note(f"socket {i}: expected {want!r} ref {want_ref!r}, got {got!r} ref {ref!r}")
        if action == "error":
            self.errors_received[got] += 1
        elif action == "echo":
            seq = payload["seq"]
            if seq != self.echo_next[i]:
                self.reordered[i] += 1
            self.echo_next[i] = seq + 1
            self.received["echo"] += 1
        else:
            self.received["pong"] += 1

    def expected_chat_deliveries(self) -> int:
        return sum(n * self.room_size[self.room[s]] for s, n in enumerate(self.chat_sent))


class Sender:
    """Sends each kind of frame for the sockets its pacers pick."""

    def __init__(self, conns: list[Conn], state: HostileState) -> None:
        self.conns = conns
        self.state = state
        self.skipped = 0
        self.malformed_cursor = 0
        self.wrong_items = b""

    def expect(self, i: int, kind: str, ref: str | None = None) -> None:
        self.state.pending[i].append((kind, ref, time.perf_counter()))

    def room_for_more(self, i: int) -> bool:
        if len(self.state.pending[i]) >= REPLY_WINDOW:
            self.skipped += 1
            return False
        return True

    def echo(self, i: int) -> None:
        st = self.state
        if st.echo_sent[i] - st.echo_next[i] >= ECHO_WINDOW or not self.room_for_more(i):
            self.skipped += 1
            return
        self.conns[i].send(b'{"action":"echo","payload":{"seq":%d}}' % st.echo_sent[i])
        st.echo_sent[i] += 1
        st.sent["echo"] += 1
        self.expect(i, "echo")

    def ping(self, i: int) -> None:
        if self.room_for_more(i):
            self.conns[i].send(b'{"action":"ping","payload":null}')
            self.state.sent["ping"] += 1
            self.expect(i, "pong")

    def chat(self, i: int) -> None:
        st = self.state
        seq = st.chat_sent[i]
        self.conns[i].send(
            b'{"action":"chat","payload":{"sender":%d,"seq":%d,"text":"hello room %d"}}'
            % (i, seq, st.room[i])
        )
        st.chat_sent[i] += 1
        st.sent["chat"] += 1

    def amplify(self, i: int, size: int) -> None:
        if not self.room_for_more(i):
            return
        st = self.state
        ref = f"amp-{i}-{st.sent['amplify']}"
        head = b'{"action":"tag","ref":"%s","payload":{"tags":[' % ref.encode()
        if len(self.wrong_items) != size:
            self.wrong_items = b",".join([b"1"] * max(1, (size - len(head) - 8) // 2)) + b"]}}"
        frame = head + self.wrong_items
        self.conns[i].send(frame)
        st.sent["amplify"] += 1
        st.sent_amplify_bytes += len(frame)
        self.expect(i, "validation_error", ref)

    def malformed(self, i: int) -> None:
        if not self.room_for_more(i):
            return
        st = self.state
        spec = CATALOGUE[self.malformed_cursor % len(CATALOGUE)]
        self.malformed_cursor += 1
        ref = f"bad-{i}-{self.malformed_cursor}"
        transport = self.conns[i].transport
        assert transport is not None
        kind = WSMsgType.BINARY if spec.binary else WSMsgType.TEXT
        transport.send(kind, spec.frame(i, ref))
        st.malformed_sent[spec.kind] += 1
        st.sent["malformed"] += 1
        if spec.code == FRAME_TOO_LARGE:
            st.too_large_expected[i] += 1
            st.too_large_sent_at[i].append(time.perf_counter())
        else:
            self.expect(i, spec.code, ref if spec.with_ref else None)


async def sample_server(probe: ServerProbe, t0: float, out: list[list[float]]) -> None:
    """Every second: [seconds since t0, server RSS MiB, server CPU cores over that second]."""
    cpu = probe.cpu_seconds()
    last = time.perf_counter()
    out.append([0.0, probe.rss_bytes() / 2**20, 0.0])
    while True:
        await asyncio.sleep(1.0)
        now, cpu_now = time.perf_counter(), probe.cpu_seconds()
        out.append([now - t0, probe.rss_bytes() / 2**20, (cpu_now - cpu) / (now - last)])
        cpu, last = cpu_now, now


async def open_rooms(url: str, count: int, rooms: int) -> list[Conn]:
    by_room = [await connect_many(f"{url}/room/{r}", len(range(r, count, rooms)))
               for r in range(rooms)]  # fmt: skip
    # socket i is member i // rooms of room i % rooms
    return [by_room[i % rooms][i // rooms] for i in range(count)]


async def run_hostile_soak(args: argparse.Namespace, probe: ServerProbe) -> dict[str, Any]:
    rss_before = probe.rss_bytes() / 2**20
    conns = await open_rooms(args.url, args.connections + args.amplifiers, args.rooms)
    count = len(conns)
    state = HostileState(count, args.rooms, args.hostile_every, args.amplifiers)
    for index, conn in enumerate(conns):
        conn.on_text = lambda c, p, i=index: state.on_text(i, p)
    sender = Sender(conns, state)
    everyone = list(range(count))
    hostile = [i for i in everyone if state.hostile[i] and not state.amplifier[i]]
    amplifiers = [i for i in everyone if state.amplifier[i]]
    # Each kind starts its round robin elsewhere, so one tick's sends are spread out.
    third, half = count // 3, count // 2
    pacers = [
        (Pacer(args.echo_rate * count, everyone), sender.echo),
        (Pacer(args.ping_rate * count, everyone[third:] + everyone[:third]), sender.ping),
        (Pacer(args.chat_rate * count, everyone[half:] + everyone[:half]), sender.chat),
        (Pacer(args.malformed_rate * len(hostile), hostile), sender.malformed),
        (
            Pacer(args.amplify_rate * len(amplifiers), amplifiers),
            lambda i: sender.amplify(i, args.amplify_bytes),
        ),
    ]
    broadcasts = 0
    next_broadcast = 0.0
    samples: list[list[float]] = []
    t0 = time.perf_counter()
    edges = (time.process_time(), probe.cpu_seconds(), machine_busy_seconds())
    sampler = asyncio.create_task(sample_server(probe, t0, samples))
    deadline = t0 + args.duration
    last = t0
    try:
        while (now := time.perf_counter()) < deadline:
            elapsed, last = now - last, now
            for pacer, send in pacers:
                for i in pacer.due(elapsed):
                    send(i)
            if now >= next_broadcast:
                conns[0].send(b'{"action":"broadcast","payload":{"seq":%d}}' % broadcasts)
                broadcasts += 1
                state.sent["broadcast"] += 1
                next_broadcast = now + args.broadcast_interval
            await asyncio.sleep(TICK)
        sending_ended = time.perf_counter()
        client_s = time.process_time() - edges[0]
        server_s = probe.cpu_seconds() - edges[1]
        other_s = machine_busy_seconds() - edges[2] - client_s - server_s
        window_samples = list(samples)
        expected_chat = state.expected_chat_deliveries()
        drain_until = time.perf_counter() + args.drain_timeout
        # Polling, not an event: the drain is bounded and happens once per run.
        while time.perf_counter() < drain_until and (  # noqa: ASYNC110
            any(state.pending)
            or state.received["notify"] < broadcasts * count
            or state.received["room_chat"] < expected_chat
            or sum(state.too_large_received) < sum(state.too_large_expected)
        ):
            await asyncio.sleep(0.05)
        drain_s = time.perf_counter() - sending_ended
        rss_after_drain = probe.rss_bytes() / 2**20
        closed = [i for i, c in enumerate(conns) if c.closed_by_peer]
        window_s = sending_ended - t0
        return summarise_hostile(
            state,
            args=args,
            sender=sender,
            broadcasts=broadcasts,
            closed=closed,
            samples=window_samples,
            rss_before=rss_before,
            rss_after_drain=rss_after_drain,
            drain_s=drain_s,
            cpu={
                "server_cpu_util": server_s / window_s,
                "client_cpu_util": client_s / window_s,
                "other_cpu_util": max(0.0, other_s) / window_s,
            },
        )
    finally:
        sampler.cancel()
        await asyncio.gather(*(c.close() for c in conns))


__all__ = ["HostileState", "run_hostile_soak"]
