"""The malformed frames of the hostile soak, each with the error code it must be answered by.

Every kind is a frame a broken or hostile client could send; the server must answer each with
exactly one error frame of the given code and keep serving the socket. ``ref`` marks kinds
whose frame is valid JSON with a ``ref``, which the error frame must echo.
"""

from __future__ import annotations

from dataclasses import dataclass

# The rooms app refuses frames above 64 KiB with an error frame (oversized_frames = "error").
OVERSIZED_BYTES = 70 * 1024
FRAME_TOO_LARGE = "frame_too_large"


@dataclass(frozen=True)
class Malformed:
    kind: str
    code: str
    binary: bool = False
    with_ref: bool = False

    def frame(self, sender: int, ref: str) -> bytes:
        return BUILDERS[self.kind](sender, ref)


def _oversized(sender: int, ref: str) -> bytes:
    head = b'{"action":"echo","payload":{"seq":0},"pad":"'
    return head + b"x" * (OVERSIZED_BYTES - len(head) - 2) + b'"}'


BUILDERS = {
    "bad_json": lambda s, r: b'{"action":"echo","payload":{"seq":',
    "binary": lambda s, r: b'{"action":"ping","payload":null}',
    "unknown_action": lambda s, r: (
        b'{"action":"shout","payload":{"loud":true},"ref":"%s"}' % r.encode()
    ),
    "invalid_payload": lambda s, r: (
        b'{"action":"chat","payload":{"sender":"me","seq":-1,"text":7},"ref":"%s"}' % r.encode()
    ),
    "missing_action": lambda s, r: b'{"payload":{"seq":1}}',
    "not_an_object": lambda s, r: b"[1,2,3]",
    "deep_nesting": lambda s, r: b"[" * 3000 + b"]" * 3000,
    "huge_number": lambda s, r: (
        b'{"action":"echo","payload":{"seq":1e999},"ref":"%s"}' % r.encode()
    ),
    "long_digits": lambda s, r: b'{"action":"echo","payload":{"seq":' + b"9" * 5000 + b"}}",
    "too_long_text": lambda s, r: (
        b'{"action":"chat","payload":{"sender":%d,"seq":0,"text":"%s"},"ref":"%s"}'
        % (s, b"y" * 600, r.encode())
    ),
    "oversized": _oversized,
}

CATALOGUE: list[Malformed] = [
    Malformed("bad_json", "invalid_json"),
    Malformed("binary", "binary_frame", binary=True),
    Malformed("unknown_action", "unknown_action", with_ref=True),
    Malformed("invalid_payload", "validation_error", with_ref=True),
    Malformed("missing_action", "missing_action"),
    Malformed("not_an_object", "invalid_message"),
    Malformed("deep_nesting", "invalid_json"),
    Malformed("huge_number", "validation_error", with_ref=True),
    Malformed("long_digits", "invalid_json"),
    Malformed("too_long_text", "validation_error", with_ref=True),
    Malformed("oversized", FRAME_TOO_LARGE),
]

__all__ = ["CATALOGUE", "FRAME_TOO_LARGE", "OVERSIZED_BYTES", "Malformed"]
