"""Where and how the layer's own connection connects: address, TLS, credentials, db, RESP.

`lean_endpoint` reads a host spec the way redis-py would (its public ``parse_url`` for URLs)
and returns an `Endpoint` only when hiredis is installed and every option is one this module
handles; anything else (a credential provider, a custom connection class, socket options...)
keeps the shard on redis-py's standard client, which handles it all. `open_wire` connects
and performs the handshake: ``HELLO 3`` with AUTH and SETNAME for RESP3, or AUTH and
``CLIENT SETNAME`` for RESP2, then SELECT.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import AuthenticationError, ResponseError

if TYPE_CHECKING:
    from chanx.redis._wire import Wire

__all__ = ["Endpoint", "lean_endpoint", "open_wire"]

try:
    import hiredis  # noqa: F401 - only whether it imports matters here
except ImportError:
    HIREDIS = False
else:
    HIREDIS = True

_SSL_OPTIONS = frozenset(
    {
        "ssl",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_ca_data",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_password",
        "ssl_check_hostname",
    }
)
_OPTIONS = _SSL_OPTIONS | {
    "host",
    "port",
    "path",
    "db",
    "username",
    "password",
    "protocol",
    "client_name",
    "socket_timeout",
    "socket_connect_timeout",
}
_CERT_REQS = {
    None: ssl.CERT_NONE,
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One Redis server as the layer's own connection reaches it."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a Unix socket instead of host and port
    ssl: ssl.SSLContext | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    protocol: int = 2
    client_name: str | None = None
    connect_timeout: float = 5.0


def lean_endpoint(spec: dict[str, Any]) -> Endpoint | None:
    """The `Endpoint` for a plain-server host spec; None when redis-py should connect."""
    if not HIREDIS:
        return None
    options = dict(spec)
    if "address" in options:
        options = {**parse_url(options.pop("address")), **options}
    connection_class = options.pop("connection_class", None)
    if connection_class is SSLConnection:
        options.setdefault("ssl", True)
    elif connection_class not in (None, UnixDomainSocketConnection):
        return None
    if set(options) - _OPTIONS:
        return None
    protocol = int(options.get("protocol") or 2)
    if protocol not in (2, 3):
        raise ValueError(f"expected protocol 2 or 3, but got {options['protocol']!r}")
    return Endpoint(
        host=str(options.get("host", "127.0.0.1")),
        port=int(options.get("port", 6379)),
        path=options.get("path"),
        ssl=_ssl_context(options) if options.get("ssl") else None,
        db=int(options.get("db") or 0),
        username=options.get("username"),
        password=options.get("password"),
        protocol=protocol,
        client_name=options.get("client_name"),
        connect_timeout=float(options.get("socket_connect_timeout") or 5.0),
    )


def _ssl_context(options: dict[str, Any]) -> ssl.SSLContext:
    """A TLS context with redis-py's ``ssl_*`` options (verification on unless switched off)."""
    requirement = options.get("ssl_cert_reqs", "required")
    if isinstance(requirement, str):
        requirement = requirement.lower()
    verify = requirement if isinstance(requirement, ssl.VerifyMode) else _CERT_REQS.get(requirement)
    if verify is None:
        raise ValueError(
            f"expected ssl_cert_reqs 'none', 'optional' or 'required', but got {requirement!r}"
        )
    context = ssl.create_default_context(
        cafile=options.get("ssl_ca_certs"),
        capath=options.get("ssl_ca_path"),
        cadata=options.get("ssl_ca_data"),
    )
    context.check_hostname = (
        bool(options.get("ssl_check_hostname", verify == ssl.CERT_REQUIRED))
        and verify != ssl.CERT_NONE
    )
    context.verify_mode = verify
    if options.get("ssl_certfile"):
        context.load_cert_chain(
            options["ssl_certfile"], options.get("ssl_keyfile"), options.get("ssl_password")
        )
    return context


async def open_wire(endpoint: Endpoint, command_timeout: float | None = None) -> Wire:
    """Connect to ``endpoint`` and hand back a ready `Wire` (authenticated, db selected).

    With ``command_timeout``, a command whose reply takes longer fails with redis-py's
    `TimeoutError` and the connection is dropped.
    """
    from chanx.redis._wire import Wire  # needs hiredis, which lean_endpoint checked

    loop = asyncio.get_running_loop()
    async with asyncio.timeout(endpoint.connect_timeout):
        if endpoint.path is not None:
            _, wire = await loop.create_unix_connection(
                lambda: Wire(command_timeout), endpoint.path, ssl=endpoint.ssl
            )
        else:
            _, wire = await loop.create_connection(
                lambda: Wire(command_timeout),
                endpoint.host,
                endpoint.port,
                ssl=endpoint.ssl,
                server_hostname=endpoint.host if endpoint.ssl is not None else None,
            )
        try:
            await _handshake(wire, endpoint)
        except BaseException:
            wire.close()
            raise
    return wire


async def _handshake(wire: Wire, endpoint: Endpoint) -> None:
    replies: list[asyncio.Future[Any]] = []
    if endpoint.protocol == 3:
        hello: list[Any] = ["HELLO", 3]
        if endpoint.password is not None:
            hello += ["AUTH", endpoint.username or "default", endpoint.password]
        if endpoint.client_name:
            hello += ["SETNAME", endpoint.client_name]
        replies.append(wire.command(*hello))
    else:
        if endpoint.password is not None:
            user = [endpoint.username] if endpoint.username else []
            replies.append(wire.command("AUTH", *user, endpoint.password))
        if endpoint.client_name:
            replies.append(wire.command("CLIENT", "SETNAME", endpoint.client_name))
    if endpoint.db:
        replies.append(wire.command("SELECT", endpoint.db))
    # Pipelined: one round trip, and every reply is read even when the first one fails.
    results = await asyncio.gather(*replies, return_exceptions=True)
    for result in results:
        if isinstance(result, ResponseError):
            text = str(result)
            if text.startswith(("WRONGPASS", "NOAUTH", "NOPERM")) or "password" in text:
                raise AuthenticationError(text)
            raise result
        if isinstance(result, BaseException):
            raise result
