"""Turns the hostile soak's counters into its result: losses per kind, errors, RSS trend."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from _lg_common import percentile

if TYPE_CHECKING:
    from _lg_hostile_soak import HostileState, Sender


def slope_per_min(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return 60.0 * cov / var if var else 0.0


def losses(state: HostileState, members: list[int], broadcasts: int) -> dict[str, int]:
    """What the sockets in ``members`` never got, and what they got wrong."""
    chat_by_room: Counter[int] = Counter()
    for sender, sent in enumerate(state.chat_sent):
        chat_by_room[state.room[sender]] += sent
    lost_replies: Counter[str] = Counter()
    for i in members:
        for kind, _, _ in state.pending[i]:
            lost_replies[kind] += 1
    return {
        "lost_echo": lost_replies.pop("echo", 0),
        "lost_pong": lost_replies.pop("pong", 0),
        "lost_error_frames": sum(lost_replies.values())
        + sum(state.too_large_expected[i] - state.too_large_received[i] for i in members),
        "lost_room_chat": sum(chat_by_room[state.room[i]] - state.chat_count[i] for i in members),
        "lost_notify": sum(broadcasts - state.notify_count[i] for i in members),
        "reordered": sum(state.reordered[i] for i in members),
        "mismatched_replies": sum(state.mismatched[i] for i in members),
    }


def rss_figures(samples: list[list[float]], duration: float) -> dict[str, float]:
    rss = [s[1] for s in samples]
    last_half = [(s[0], s[1]) for s in samples if s[0] >= duration / 2]
    return {
        "rss_start_mb": rss[0],
        "rss_peak_mb": max(rss),
        "rss_end_mb": rss[-1],
        "rss_slope_last_half_mb_per_min": slope_per_min(last_half),
        "rss_slope_all_mb_per_min": slope_per_min([(s[0], s[1]) for s in samples]),
    }


def summarise_hostile(
    state: HostileState,
    *,
    args: argparse.Namespace,
    sender: Sender,
    broadcasts: int,
    closed: list[int],
    samples: list[list[float]],
    rss_before: float,
    rss_after_drain: float,
    drain_s: float,
    cpu: dict[str, float],
) -> dict[str, Any]:
    count = len(state.room)
    hostile = [i for i in range(count) if state.hostile[i]]
    polite = [i for i in range(count) if not state.hostile[i]]
    well, bad = losses(state, polite, broadcasts), losses(state, hostile, broadcasts)
    malformed = sum(state.malformed_sent.values()) + state.sent["amplify"]
    error_frames = sum(state.errors_received.values())
    rss = rss_figures(samples, args.duration)
    reply_ms = sorted(state.reply_ms)
    bystander_ms = sorted(state.bystander_reply_ms)
    amplify_replies = state.amplify_reply_bytes
    # A short run's RSS is still warming up (caches, arenas): its trend says nothing.
    rss_checked = args.duration >= 30
    rss_stable = rss["rss_slope_last_half_mb_per_min"] <= args.rss_slope_limit
    ok = (
        not any(well.values())
        and not any(bad.values())
        and error_frames == malformed
        and state.cross_room == 0
        and state.unexpected == 0
        and not closed
        and (rss_stable or not rss_checked)
    )
    return {
        "hostile_ok": ok,
        "duration_s": args.duration,
        "connections": count,
        "rooms": args.rooms,
        "hostile_connections": len(hostile),
        "rates_per_socket": {
            "echo": args.echo_rate,
            "ping": args.ping_rate,
            "chat": args.chat_rate,
            "malformed_per_hostile": args.malformed_rate,
            "broadcast_interval_s": args.broadcast_interval,
        },
        "sent": dict(state.sent),
        "received": {**state.received, "error": error_frames},
        "expected_room_chat_deliveries": state.expected_chat_deliveries(),
        "expected_notify_deliveries": broadcasts * count,
        "malformed_sent": malformed,
        "error_frames_received": error_frames,
        "malformed_sent_by_kind": dict(state.malformed_sent),
        "error_frames_by_code": dict(state.errors_received),
        "well_behaved": well,
        "hostile": bad,
        "lost_well_behaved": sum(v for k, v in well.items() if k.startswith("lost_")),
        "lost_hostile": sum(v for k, v in bad.items() if k.startswith("lost_")),
        "reordered": well["reordered"] + bad["reordered"],
        "mismatched_replies": well["mismatched_replies"] + bad["mismatched_replies"],
        "frame_too_large_overtook_earlier_replies": state.too_large_overtook,
        "cross_room_deliveries": state.cross_room,
        "unexpected_frames": state.unexpected,
        "first_problems": state.samples,
        "closed_by_server": len(closed),
        "sends_skipped_window_full": sender.skipped,
        "drain_s": drain_s,
        "reply_p50_ms": percentile(reply_ms, 50),
        "reply_p99_ms": percentile(reply_ms, 99),
        "reply_max_ms": reply_ms[-1] if reply_ms else 0.0,
        # Replies to the well-behaved sockets only: what an attack costs its bystanders.
        "bystander_reply_p50_ms": percentile(bystander_ms, 50),
        "bystander_reply_p99_ms": percentile(bystander_ms, 99),
        "amplifiers": args.amplifiers,
        "amplify_frames_sent": state.sent["amplify"],
        "amplify_bytes_sent": state.sent_amplify_bytes,
        "amplify_error_bytes_received": sum(amplify_replies),
        "amplify_error_frame_max_bytes": max(amplify_replies, default=0),
        "rss_before_connect_mb": rss_before,
        **rss,
        "rss_after_drain_mb": rss_after_drain,
        "rss_slope_limit_mb_per_min": args.rss_slope_limit,
        "rss_stable": rss_stable,
        "rss_checked": rss_checked,
        **cpu,
        "samples_t_rss_mb_cpu": [[round(v, 3) for v in s] for s in samples],
    }


__all__ = ["losses", "rss_figures", "slope_per_min", "summarise_hostile"]
