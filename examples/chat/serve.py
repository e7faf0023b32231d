"""The demo's server settings: uvicorn's limits, matched to the consumers' own.

``python -m examples.chat`` runs uvicorn with `server_settings()`; docs/production.md
explains each setting.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from .consumers import ChatConsumer, UserConsumer

_QUERY = re.compile(r"\?\S*")


class RedactQueryStrings(logging.Filter):
    """Cuts query strings out of uvicorn's log lines: they carry the demo's ``?token=``.

    uvicorn logs each accepted WebSocket with its full path on ``uvicorn.error`` and each
    HTTP request on ``uvicorn.access``; a token in the URL would end up in both.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("?…", arg) if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging, with query strings redacted on both of its loggers."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactQueryStrings}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config


def max_frame_bytes() -> int:
    """The largest frame any of the demo's consumers accepts."""
    limits = {consumer.max_frame_bytes for consumer in (ChatConsumer, UserConsumer)}
    if None in limits:
        raise RuntimeError("every demo consumer must set max_frame_bytes")
    return max(limit for limit in limits if limit is not None)


def server_settings() -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` (or ``uvicorn.Config``)."""
    return {
        "ws": "websockets-sansio",
        # uvicorn buffers a whole frame before the app sees it: no more than chanx accepts
        "ws_max_size": max_frame_bytes(),
        # a peer that stops answering pings is closed after about 40 s
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        # HTTP requests beyond this many open connections get 503; WebSocket upgrades
        # skip the check, so the consumers' max_connections caps the sockets
        "limit_concurrency": int(os.environ.get("CHANX_DEMO_LIMIT_CONCURRENCY", "1000")),
        # idle keep-alive HTTP connections are closed after 5 s
        "timeout_keep_alive": 5,
        # request line and headers together may not exceed 16 KiB
        "h11_max_incomplete_event_size": 16 * 1024,
        # client addresses (per-client limits) come from X-Forwarded-For only when the
        # peer is a trusted proxy
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("CHANX_DEMO_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "server_header": False,
        "log_config": log_config(),
    }
