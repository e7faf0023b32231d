"""What travels in an AMQP message body: a kind, a target, the send time and the message.

One msgpack array per message: ``[kind, target, sent_ms, message]``. ``target`` is the
channel's suffix (``DIRECT``), the group name (``GROUP``) or a membership change
(``CONTROL``). msgpack keeps ``bytes`` values intact, as Channels' layers do.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["CONTROL", "DIRECT", "GROUP", "decode", "encode"]

DIRECT = 0
GROUP = 1
CONTROL = 2

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def encode(kind: int, target: str, sent_ms: int, message: object) -> bytes:
    if not isinstance(message, dict):
        raise TypeError(f"expected a message dict, but got {message!r}")
    return _encoder.encode((kind, target, sent_ms, message))


def decode(body: bytes) -> tuple[int, str, int, dict[str, Any]]:
    kind, target, sent_ms, message = _decoder.decode(body)
    return kind, target, sent_ms, message
