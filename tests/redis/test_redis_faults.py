"""The fault suite: a private Redis is killed, paused, slept and squeezed under live layers.

Each scenario streams numbered group messages from a sender layer to two members: one in
the sender's own layer (the same process) and one in another layer (another process, in
effect). Afterwards every message must be accounted for: delivered, or its ``group_send``
raised, or it was sent inside the window of a loss incident the receiving layer reported
(counted in its stats and logged). And delivery must resume without restarting anything.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from redis.exceptions import RedisError

from chanx.redis import RedisChannelLayer

from ._servers import RedisProcess, cli, free_port

pytestmark = [pytest.mark.redis, pytest.mark.slow]

FILL = "for i = 1, 200 do redis.call('SET', ARGV[1] .. i, string.rep('x', 2000)) end"
TOLERANCE = 0.05  # seconds: clocks are read on either side of a Redis call


@dataclass
class Stream:
    """Numbered group messages: when each was sent and whether ``group_send`` raised."""

    sent_at: dict[int, float] = field(default_factory=dict)
    fault_over: float = 0.0
    failed: set[int] = field(default_factory=set)
    received: dict[str, list[int]] = field(default_factory=dict)

    def ok(self) -> list[int]:
        return [index for index in self.sent_at if index not in self.failed]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(free_port(), tmp_path, ["--enable-debug-command", "yes"])
    process.start()
    yield process
    process.kill()


async def _until(check: Callable[[], object], within: float) -> None:
    with anyio.fail_after(within):
        while not check():  # noqa: ASYNC110 - polls shared state, bounded by fail_after
            await anyio.sleep(0.01)


def _unaccounted(stream: Stream, member: str, layer: RedisChannelLayer) -> list[int]:
    """Messages that reached Redis, never arrived, and no incident of ``layer`` covers."""
    got = set(stream.received[member])
    windows = [(i.start - TOLERANCE, i.end + TOLERANCE) for i in layer.stats.incidents]
    return [
        index
        for index in stream.ok()
        if index not in got
        and not any(start <= stream.sent_at[index] <= end for start, end in windows)
    ]


async def _run_scenario(
    url: str, fault: Callable[[], Awaitable[None]], *, group_expiry: float = 86400
) -> tuple[Stream, RedisChannelLayer, RedisChannelLayer]:
    options = {"heal_interval": 0.3, "group_expiry": group_expiry, "capacity": 100_000}
    sender = RedisChannelLayer.from_url(url, **options)
    remote = RedisChannelLayer.from_url(url, **options)
    stream = Stream(received={"local": [], "remote": []})
    try:
        members = {
            "local": (sender, await sender.new_channel()),
            "remote": (remote, await remote.new_channel()),
        }
        for layer, channel in members.values():
            await layer.group_add("room", channel)
        stop = anyio.Event()

        async def send() -> None:
            index = 0
            while not stop.is_set():
                stream.sent_at[index] = time.time()
                try:
                    await sender.group_send("room", {"type": "tick", "index": index})
                except RedisError:
                    stream.failed.add(index)
                    await anyio.sleep(0.02)  # Redis is down: pace the attempts
                index += 1
                await anyio.sleep(0.002)

        async def read(name: str) -> None:
            layer, channel = members[name]
            while True:
                stream.received[name].append((await layer.receive(channel))["index"])

        def resumed() -> bool:
            # Both members got a message sent a second after the fault was over.
            after = [
                i
                for i, at in stream.sent_at.items()
                if stream.fault_over and at > stream.fault_over + 1
            ]
            return bool(after) and all(
                any(i in after for i in got[-5:]) for got in stream.received.values()
            )

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(read, "local")
                tasks.start_soon(read, "remote")
                tasks.start_soon(send)
                await _until(lambda: len(stream.received["remote"]) >= 50, within=10)
                await fault()
                stream.fault_over = time.time()
                await _until(resumed, within=20)
                stop.set()
                last = max(stream.ok())
                await _until(
                    lambda: all(got and got[-1] >= last for got in stream.received.values()),
                    within=10,
                )
                tasks.cancel_scope.cancel()
    finally:
        await sender.close()
        await remote.close()
    # Order holds and nothing is invented or duplicated.
    for got in stream.received.values():
        assert got == sorted(set(got))
        assert set(got) <= set(stream.sent_at)
    return stream, sender, remote


async def test_kill_and_restart(server: RedisProcess, caplog: pytest.LogCaptureFixture) -> None:
    # Item 2: after kill -9 and a restart, messages sent after Redis was back were lost
    # (on the sender's own members too) while the sender saw success.
    caplog.set_level(logging.WARNING, logger="chanx.redis")

    async def kill_and_restart() -> None:
        server.kill()
        await anyio.sleep(3)  # the outage of the issue: a restart 3 s later
        await anyio.to_thread.run_sync(server.start)

    stream, _, remote = await _run_scenario(f"redis://127.0.0.1:{server.port}/0", kill_and_restart)
    assert stream.failed  # the sender was told during the outage
    # The sender's own member got every message the sender was told went out.
    assert not set(stream.ok()) - set(stream.received["local"])
    assert _unaccounted(stream, "remote", remote) == []
    # The remote member heals within the documented bound: heal_interval (0.3 s here) after
    # Redis answers again, plus slack for a loaded machine.
    late = [i for i in stream.ok() if stream.sent_at[i] > stream.fault_over + 0.3 + 0.7]
    assert late
    assert not set(late) - set(stream.received["remote"])
    assert remote.stats.redis_restarts == 1
    [restart] = [i for i in remote.stats.incidents if i.cause == "redis_restart"]
    restarted_lines = [r for r in caplog.records if "Redis restarted" in r.getMessage()]
    assert restart.end - restart.start < 5
    assert len(restarted_lines) == 2  # one per layer: one WARNING per incident
    lost = set(stream.ok()) - set(stream.received["remote"])
    print(  # the figures behind the docs' healing bound
        f"sent={len(stream.sent_at)} failed={len(stream.failed)} lost-remote={len(lost)} "
        f"restart window={restart.end - restart.start:.2f}s"
    )


@pytest.mark.parametrize(
    "command",
    [("debug", "sleep", "1"), ("client", "pause", "1000", "WRITE")],
    ids=["DEBUG SLEEP", "CLIENT PAUSE"],
)
async def test_a_stalled_server_loses_nothing(
    server: RedisProcess, command: tuple[str, ...]
) -> None:
    async def stall() -> None:
        await anyio.to_thread.run_sync(lambda: cli(server.port, *command))
        await anyio.sleep(1.2)  # CLIENT PAUSE returns at once; the pause lasts 1 s

    stream, sender, remote = await _run_scenario(f"redis://127.0.0.1:{server.port}/0", stall)
    for name in ("local", "remote"):
        assert not set(stream.ok()) - set(stream.received[name]), name
    assert not remote.stats.incidents
    assert not sender.stats.incidents


async def test_group_expiry_shorter_than_the_test(server: RedisProcess) -> None:
    # Item 3: a connection open longer than group_expiry silently stopped receiving.
    async def wait_out_the_expiry() -> None:
        await anyio.sleep(2.5)

    stream, _, _ = await _run_scenario(
        f"redis://127.0.0.1:{server.port}/0", wait_out_the_expiry, group_expiry=1
    )
    for name in ("local", "remote"):
        assert not set(stream.ok()) - set(stream.received[name]), name


async def test_eviction_is_reported_and_heals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Item 1: with maxmemory and allkeys-lru, Redis evicted group keys; messages were lost
    # with no error, log line or counter, and the room stayed dead after memory was freed.
    server = RedisProcess(
        free_port(), tmp_path, ["--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru"]
    )
    server.start()
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    try:

        async def squeeze() -> None:
            # Fill memory until Redis has evicted for a while, then free it again.
            for round_ in range(60):
                await anyio.to_thread.run_sync(cli, server.port, "eval", FILL, "0", f"j:{round_}:")
                await anyio.sleep(0.02)
            await anyio.to_thread.run_sync(lambda: cli(server.port, "flushdb"))

        stream, _, remote = await _run_scenario(f"redis://127.0.0.1:{server.port}/0", squeeze)
    finally:
        server.kill()
    assert not set(stream.ok()) - set(stream.received["local"])
    assert _unaccounted(stream, "remote", remote) == []
    assert remote.stats.evicted_keys > 0
    assert any(i.cause in {"eviction", "memberships_lost"} for i in remote.stats.incidents)
    policy = [r for r in caplog.records if "maxmemory-policy allkeys-lru" in r.getMessage()]
    assert len(policy) == 2  # one start-up warning per layer


async def test_a_user_without_info_still_heals(
    server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # Managed Redis may refuse INFO: restarts and evictions then show as missing memberships.
    cli(server.port, "acl", "setuser", "limited", "on", ">secret", "~*", "&*", "+@all", "-info")
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    url = f"redis://limited:secret@127.0.0.1:{server.port}/0"
    layer = RedisChannelLayer.from_url(url, heal_interval=0.2)
    try:
        channel = await layer.new_channel()
        await layer.group_add("room", channel)
        await _until(lambda: any("refused INFO" in r.getMessage() for r in caplog.records), 5)
        cli(server.port, "del", "asgi:gr:{room}")
        await _until(lambda: layer.stats.memberships_restored == 1, within=5)
        assert cli(server.port, "zcard", "asgi:gr:{room}") == "1"
        assert [i.cause for i in layer.stats.incidents] == ["memberships_lost"]
    finally:
        await layer.flush()
        await layer.close()


async def test_maxmemory_below_current_use_is_reported_as_eviction(
    server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # An outside trial: with maxmemory set below what Redis itself already uses and
    # allkeys-lru, every key went at once and writes were refused for 5.5 s; the loss was
    # logged only as memberships_lost with a 0.0 s window, and no eviction WARNING.
    caplog.set_level(logging.WARNING, logger="chanx.redis")
    squeezed: list[float] = []

    async def squeeze() -> None:
        used = int(cli(server.port, "memory", "stats").split("\n")[1])  # peak.allocated
        cli(server.port, "config", "set", "maxmemory-policy", "allkeys-lru")
        cli(server.port, "config", "set", "maxmemory", str(used // 2))
        squeezed.append(time.time())
        await anyio.sleep(3)
        cli(server.port, "config", "set", "maxmemory", "0")
        squeezed.append(time.time())

    stream, _, remote = await _run_scenario(f"redis://127.0.0.1:{server.port}/0", squeeze)
    lost = sorted(
        stream.sent_at[i] - squeezed[0] for i in set(stream.ok()) - set(stream.received["remote"])
    )
    windows = [
        (i.cause, i.start - squeezed[0], i.end - squeezed[0]) for i in remote.stats.incidents
    ]
    print(  # the figures behind the fix: when lost messages were sent, relative to the squeeze
        f"sent={len(stream.sent_at)} lost-remote={len(lost)} "
        f"sent from {lost[0] if lost else 0:+.2f}s to {lost[-1] if lost else 0:+.2f}s; "
        + ", ".join(f"{cause} {start:+.2f}s to {end:+.2f}s" for cause, start, end in windows)
    )
    assert not set(stream.ok()) - set(stream.received["local"])
    assert _unaccounted(stream, "remote", remote) == []
    evictions = [i for i in remote.stats.incidents if i.cause == "eviction"]
    assert evictions, [i.cause for i in remote.stats.incidents]
    assert remote.stats.evicted_keys > 0
    # The window covers the whole time the memberships were gone: from before the squeeze
    # to after memory was given back.
    [eviction] = evictions
    assert eviction.start <= squeezed[0]
    assert eviction.end >= squeezed[1]
    lines = [r for r in caplog.records if r.getMessage().startswith("eviction:")]
    assert len(lines) == 2  # one per layer
    assert all(r.levelno == logging.WARNING for r in lines)
    # While Redis refused the memberships back, the operator was told at once, too.
    assert any("Redis refuses" in r.getMessage() for r in caplog.records)
    # The policy was switched on at run time: each layer warns about it then.
    policy = [r for r in caplog.records if "maxmemory-policy allkeys-lru" in r.getMessage()]
    assert len(policy) == 2


@pytest.mark.parametrize("lean", [True, False], ids=["lean connection", "redis-py client"])
async def test_a_frozen_server_fails_sends_within_the_command_timeout(
    server: RedisProcess, lean: bool
) -> None:
    # A host option the lean connection does not serve puts commands on redis-py's client,
    # which bounded each read but not its health-check PING: sends waited for the freeze.
    host: dict[str, object] = {"address": f"redis://127.0.0.1:{server.port}/0"}
    host["socket_timeout"] = 1.0
    if not lean:
        host["health_check_interval"] = 1
    layer = RedisChannelLayer(hosts=[host], prefix=f"frozen-{free_port()}")
    assert server.process is not None
    try:
        member = await layer.new_channel()
        await layer.group_add("frozen", member)
        await layer.send("frozen.plain", {"type": "warm"})
        await anyio.sleep(1.1)  # past the health-check interval: the next command checks
        server.process.send_signal(signal.SIGSTOP)
        outcomes: list[tuple[str, float]] = []

        async def one(index: int) -> None:
            started = time.monotonic()
            try:
                if index % 2:
                    await layer.group_send("frozen", {"type": "m", "index": index})
                else:
                    await layer.send("frozen.plain", {"type": "m", "index": index})
                outcomes.append(("sent", time.monotonic() - started))
            except RedisError as error:
                outcomes.append((type(error).__name__, time.monotonic() - started))

        try:
            with anyio.fail_after(15):
                async with anyio.create_task_group() as tasks:
                    for index in range(10):
                        tasks.start_soon(one, index)
        finally:
            server.process.send_signal(signal.SIGCONT)
        # socket_timeout 1 s, plus at most 2 s to connect, plus scheduling
        assert [kind for kind, _ in outcomes] == ["TimeoutError"] * 10, outcomes
        assert max(seconds for _, seconds in outcomes) < 4.5, outcomes
        with anyio.fail_after(10):
            await layer.group_send("frozen", {"type": "after"})
            while (await layer.receive(member))["type"] != "after":
                pass
    finally:
        await layer.flush()
        await layer.close()
