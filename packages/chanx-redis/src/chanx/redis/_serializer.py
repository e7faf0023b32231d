"""Message serialisers for the Redis layer: msgpack (the default, through msgspec) or JSON.

The default is the same on every machine: it never depends on what else is installed, so
two processes sharing a Redis agree unless their settings say otherwise.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

__all__ = ["JsonSerializer", "MsgpackSerializer", "Serializer", "resolve_serializer"]


@runtime_checkable
class Serializer(Protocol):
    """Turns a layer message into bytes and back; each message is encoded exactly once."""

    def dumps(self, message: dict[str, Any]) -> bytes: ...

    def loads(self, data: bytes) -> dict[str, Any]: ...


class JsonSerializer:
    """Compact UTF-8 JSON: always available; bytes values are not supported."""

    name = "json"

    def dumps(self, message: dict[str, Any]) -> bytes:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes) -> dict[str, Any]:
        message = json.loads(data)
        if not isinstance(message, dict):
            raise TypeError(f"expected a serialised dict, but got {message!r}")
        return message


class MsgpackSerializer:
    """Msgpack through ``msgspec.msgpack``: compact, fast, carries bytes values."""

    name = "msgpack"

    def __init__(self) -> None:
        import msgspec.msgpack

        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(dict[str, Any])

    def dumps(self, message: dict[str, Any]) -> bytes:
        return self._encoder.encode(message)

    def loads(self, data: bytes) -> dict[str, Any]:
        return self._decoder.decode(data)


DEFAULT_SERIALIZER = "msgpack"


def resolve_serializer(value: Serializer | str | None) -> Serializer:
    """Return a serialiser for ``value``: an instance, ``"msgpack"``, ``"json"``.

    None means the default, ``"msgpack"`` (msgspec is a dependency of chanx-redis).
    """
    if value is None:
        value = DEFAULT_SERIALIZER
    if isinstance(value, str):
        if value == "json":
            return JsonSerializer()
        if value == "msgpack":
            return MsgpackSerializer()
        raise ValueError(f"expected serializer 'msgpack' or 'json', but got {value!r}")
    if isinstance(value, Serializer):
        return value
    raise TypeError(f"expected a Serializer with dumps/loads, but got {value!r}")
