"""The layer's own connection: replies split anywhere resolve in order, RESP2 and RESP3."""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chanx.redis._wire import Wire


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


def make_wire(timeout: float | None = None) -> tuple[Wire, FakeTransport]:
    wire, transport = Wire(timeout), FakeTransport()
    wire.connection_made(transport)
    return wire, transport


async def test_commands_are_packed_as_resp_arrays() -> None:
    wire, transport = make_wire()
    wire.command("EVALSHA", "abc", 1, b"key\x00", 1.5)
    assert transport.written == [
        b"*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$4\r\nkey\x00\r\n$3\r\n1.5\r\n"
    ]
    with pytest.raises(TypeError, match="expected bytes, str, int or float"):
        wire.command("SET", True)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1000])
async def test_replies_split_anywhere_resolve_in_order(step: int) -> None:
    wire, _ = make_wire()
    futures = [wire.command("X") for _ in range(6)]
    replies = (
        b"*2\r\n$3\r\nkey\r\n*2\r\n$5\r\nhello\r\n$0\r\n\r\n"  # BLMPOP-shaped
        b"$-1\r\n"
        b"*-1\r\n"
        b":42\r\n"
        b"+OK\r\n"
        b"$6\r\nab\r\ncd\r\n"  # CRLF inside a bulk string
    )
    for start in range(0, len(replies), step):
        wire.data_received(replies[start : start + step])
    assert [future.result() for future in futures] == [
        [b"key", [b"hello", b""]],
        None,
        None,
        42,
        b"OK",
        b"ab\r\ncd",
    ]


async def test_errors_raise_on_their_own_command_only() -> None:
    wire, _ = make_wire()
    first, second, third = wire.command("A"), wire.command("B"), wire.command("C")
    wire.data_received(b"-NOSCRIPT No matching script\r\n-ERR wrong\r\n:1\r\n")
    with pytest.raises(NoScriptError):
        first.result()
    with pytest.raises(ResponseError, match="ERR wrong"):
        second.result()
    assert third.result() == 1


async def test_a_cancelled_caller_does_not_shift_the_replies() -> None:
    wire, _ = make_wire()
    cancelled, kept = wire.command("A"), wire.command("B")
    cancelled.cancel()
    wire.data_received(b":1\r\n:2\r\n")
    assert kept.result() == 2


async def test_connection_loss_fails_pending_commands_and_later_ones() -> None:
    wire, _ = make_wire()
    pending = wire.command("BLMPOP")
    wire.connection_lost(None)
    with pytest.raises(RedisConnectionError):
        pending.result()
    with pytest.raises(RedisConnectionError):
        wire.command("PING")


async def test_a_late_reply_fails_the_waiting_commands_and_drops_the_connection() -> None:
    wire, transport = make_wire(timeout=0.05)
    answered = wire.command("A")
    wire.data_received(b":1\r\n")
    assert answered.result() == 1
    first, second = wire.command("B"), wire.command("C")
    with pytest.raises(RedisTimeoutError, match=r"did not answer within 0\.05 s"):
        await asyncio.wait_for(first, timeout=5)
    with pytest.raises(RedisTimeoutError):
        second.result()
    assert transport.closing
    with pytest.raises(RedisConnectionError):
        wire.command("PING")


async def test_replies_in_time_keep_the_connection() -> None:
    wire, transport = make_wire(timeout=0.5)
    for index in range(3):
        future = wire.command("PING")
        await asyncio.sleep(0.2)  # within the deadline, which each reply moves on
        wire.data_received(b":%d\r\n" % index)
        assert future.result() == index
    assert not transport.closing


async def test_a_reply_nobody_asked_for_closes_the_connection() -> None:
    wire, transport = make_wire()
    wire.data_received(b":1\r\n")
    assert transport.closing
    assert wire.closed


async def test_resp3_replies_parse() -> None:
    wire, _ = make_wire()
    futures = [wire.command("X") for _ in range(6)]
    wire.data_received(b"_\r\n%1\r\n+k\r\n:1\r\n~2\r\n:1\r\n:2\r\n,1.5\r\n#t\r\n=7\r\ntxt:abc\r\n")
    assert [future.result() for future in futures] == [None, {b"k": 1}, [1, 2], 1.5, True, b"abc"]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 17, 18, 1000])
async def test_published_messages_go_to_on_push_and_confirmations_to_commands(
    step: int,
) -> None:
    wire, _ = make_wire()
    pushed: list[bytes] = []
    wire.on_push = pushed.append
    subscribe = wire.command("SUBSCRIBE", "inbox")
    ping = wire.command("PING")
    data = (
        b">3\r\n$9\r\nsubscribe\r\n$5\r\ninbox\r\n:1\r\n"  # RESP3 confirmation
        b">3\r\n$7\r\nmessage\r\n$5\r\ninbox\r\n$3\r\none\r\n"
        b">2\r\n$10\r\ninvalidate\r\n*0\r\n"  # a notification nobody asked for
        b"*3\r\n$7\r\nmessage\r\n$5\r\ninbox\r\n$3\r\ntwo\r\n"  # RESP2 shape
        b"+PONG\r\n"
    )
    for start in range(0, len(data), step):
        wire.data_received(data[start : start + step])
    assert subscribe.result() == [b"subscribe", b"inbox", 1]
    assert ping.result() == b"PONG"
    assert pushed == [b"one", b"two"]


REAL_READER = hiredis.Reader


class CountingReader:
    """Stands in for hiredis.Reader and counts the bytes it is given."""

    def __init__(self, **options: Any) -> None:
        self.reader = REAL_READER(**options)
        self.fed = 0

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        self.reader.feed(data)

    def gets(self) -> Any:
        return self.reader.gets()


async def test_a_reply_split_into_many_chunks_is_parsed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: an incomplete reply used to be re-parsed from its start on every chunk,
    # which is quadratic for a large LPOP batch arriving in many reads.
    readers: list[CountingReader] = []

    def make(**options: Any) -> CountingReader:
        readers.append(CountingReader(**options))
        return readers[-1]

    monkeypatch.setattr(hiredis, "Reader", make)
    wire, _ = make_wire()
    future = wire.command("LPOP", "inbox", 512)
    entries = [b"%d\x00a\x00" % index + b"x" * 200 for index in range(512)]
    reply = b"*512\r\n" + b"".join(b"$%d\r\n%b\r\n" % (len(e), e) for e in entries)
    for start in range(0, len(reply), 1000):
        wire.data_received(reply[start : start + 1000])
    assert future.result() == entries
    assert readers[0].fed == len(reply)  # every byte went to the parser exactly once


async def test_bytes_that_are_not_resp_fail_the_connection() -> None:
    wire, transport = make_wire()
    pending = wire.command("PING")
    wire.data_received(b"?what\r\n")
    with pytest.raises(RedisConnectionError, match="not RESP"):
        pending.result()
    assert transport.closing


async def test_resp3_message_pushes_never_answer_a_command() -> None:
    # Regression: RESP3 pushes were dropped or taken for replies. A message that arrives
    # after the subscriber let go of on_push is skipped; the command still gets its reply.
    wire, _ = make_wire()
    ping = wire.command("PING")
    wire.data_received(b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n+PONG\r\n")
    assert ping.result() == b"PONG"
