"""Connections for the Redis layer: host specs, URLs, pools that wait, and the shard ring."""

from __future__ import annotations

import asyncio
import binascii
import bisect
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import EqualJitterBackoff
from redis.exceptions import AuthenticationError, NoScriptError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chanx.redis._endpoint import lean_endpoint, open_wire

if TYPE_CHECKING:
    from chanx.redis._wire import Wire

__all__ = ["HashRing", "Shard", "parse_hosts", "parse_url"]

HostSpec = dict[str, Any]
_LAYER_QUERY_OPTIONS = {
    "prefix": str,
    "expiry": int,
    "group_expiry": int,
    "capacity": int,
    "serializer": str,
    "heal_interval": float,
}


def _split_host_port(text: str, default_port: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    return host.strip("[]"), int(port)


def parse_hosts(hosts: object) -> list[HostSpec]:
    """Normalise ``hosts`` (tuples, URLs or dicts) into one connection spec per shard."""
    if hosts is None:
        return [{"address": "redis://127.0.0.1:6379/0"}]
    if isinstance(hosts, str | bytes):
        raise TypeError(f"expected a list of hosts, but got the single value {hosts!r}")
    if not isinstance(hosts, Sequence) or not hosts:
        raise TypeError(f"expected a non-empty list of hosts, but got {hosts!r}")
    specs: list[HostSpec] = []
    for entry in hosts:
        if isinstance(entry, str):
            specs.append({"address": entry})
        elif isinstance(entry, tuple | list) and len(entry) == 2:
            specs.append({"host": str(entry[0]), "port": int(entry[1])})
        elif isinstance(entry, dict):
            specs.append(dict(entry))
        else:
            raise TypeError(f"expected a host as (host, port), a URL or a dict, but got {entry!r}")
    return specs


def parse_url(url: str) -> tuple[list[HostSpec], dict[str, Any]]:
    """Split a layer URL into host specs and layer options taken from its query string."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    options: dict[str, Any] = {}
    for name, convert in _LAYER_QUERY_OPTIONS.items():
        if name in query:
            options[name] = convert(query.pop(name))
    scheme = parts.scheme
    if scheme in {"redis", "rediss", "unix"}:
        # Rebuilt by hand: urlunsplit turns "unix:///path" into "unix:/path", which
        # redis-py 8.2 refuses.
        address = f"{scheme}://{parts.netloc}{parts.path}"
        if query:
            address += "?" + urlencode(query)
        return [{"address": address}], options
    netloc = parts.netloc.rpartition("@")[2]
    credentials = _credentials(parts.netloc)
    nodes = [
        _split_host_port(node, 26379 if "sentinel" in scheme else 6379)
        for node in netloc.split(",")
        if node
    ]
    if not nodes:
        raise ValueError(f"expected at least one host:port in the URL, but got {url!r}")
    if scheme == "redis+sentinel":
        path = [segment for segment in parts.path.split("/") if segment]
        if not path:
            raise ValueError(f"expected /service_name after the sentinels, but got {url!r}")
        spec: HostSpec = {"sentinels": nodes, "master_name": path[0], **credentials}
        if len(path) > 1:
            spec["db"] = int(path[1])
        spec.update(query)
        return [spec], options
    if scheme == "redis+cluster":
        return [{"cluster_nodes": nodes, **credentials, **query}], options
    raise ValueError(
        "expected a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL, "
        f"but got {url!r}"
    )


def _credentials(netloc: str) -> dict[str, str]:
    userinfo, sep, _ = netloc.rpartition("@")
    if not sep:
        return {}
    username, has_password, password = userinfo.partition(":")
    result = {"password": unquote(password)} if has_password else {}
    if username:
        result["username"] = unquote(username)
    return result


class HashRing:
    """Consistent hashing of names over ``size`` shards (64 points per shard)."""

    def __init__(self, size: int) -> None:
        self.size = size
        points = sorted(
            (binascii.crc32(f"shard-{index}-{point}".encode()), index)
            for index in range(size)
            for point in range(64)
        )
        self._hashes = [hashed for hashed, _ in points]
        self._owners = [index for _, index in points]

    def index(self, name: str) -> int:
        if self.size == 1:
            return 0
        position = bisect.bisect(self._hashes, binascii.crc32(name.encode()))
        return self._owners[position % len(self._owners)]


#: How long a blocking read (BLPOP, BLMPOP) waits for a message before it returns empty.
BLOCK_SECONDS = 1
# What a command may spend connecting on top of its command timeout: the retries below.
CONNECT_BUDGET = 2.0
# Short and bounded: three retries after 0.1-0.2, 0.2-0.4 and 0.25-0.5 s, so a caller sees
# a ConnectionError 0.55-1.1 s into an outage, and a server back within that is not noticed.
RETRIES = 3


def _backoff() -> EqualJitterBackoff:
    return EqualJitterBackoff(cap=0.5, base=0.1)


def _retry(retries: int) -> Retry:
    # redis.asyncio's own Retry: the synchronous redis.retry.Retry retries nothing on an
    # asyncio client (and redis-py 8.2 warns about it).
    # OSError too: redis-py before 6 retried a refused connect only through it.
    errors = (RedisConnectionError, RedisTimeoutError, OSError)
    # (redis-py's annotation names RedisError subclasses only; any exception type works.)
    return Retry(_backoff(), retries=retries, supported_errors=errors)  # type: ignore[arg-type]


def unverified_tls(spec: HostSpec) -> bool:
    """Whether ``spec`` asks for TLS without certificate verification (ssl_cert_reqs=none)."""
    requirement = spec.get("ssl_cert_reqs")
    if "address" in spec:
        query = dict(parse_qsl(urlsplit(spec["address"]).query))
        if "ssl_check_hostname" in query:
            return False  # the URL decides, and wins over keyword options
        requirement = query.get("ssl_cert_reqs", requirement)
    return requirement is not None and str(requirement).lower() in {"none", "cert_none", "0"}


class Shard:
    """The clients of one shard (a server, a Sentinel service or a whole Redis Cluster).

    Commands go through a pool that waits up to ``pool_timeout`` for a free connection
    instead of raising; blocking reads use their own small client so they never starve it.
    """

    def __init__(self, spec: HostSpec, *, pool_size: int, pool_timeout: float) -> None:
        self.spec = spec
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.is_cluster = "cluster_nodes" in spec
        self._sentinels: list[Sentinel] = []
        self.client = self._make_client(pool_size)
        # Blocking pops hold a connection for up to a second: a pool of their own keeps them
        # from starving sends, and sends from starving them. It never retries a command: a
        # pop whose reply was lost has taken its batch, so the reader must see the error
        # and report it (redis-py would retry it quietly, on some versions even through a
        # Sentinel failover).
        self.reader = self._make_client(pool_size, retries=0)
        # Cluster and Sentinel pools raise when exhausted, so semaphores make them wait.
        waits = self.is_cluster or "sentinels" in spec
        self._limits: dict[int, asyncio.Semaphore | None] = {
            id(self.client): asyncio.Semaphore(pool_size) if waits else None,
            id(self.reader): asyncio.Semaphore(pool_size) if waits else None,
        }
        self._shas: dict[str, str] = {}
        self.run_identity: str | None = None
        # Scripts and inbox reads on a plain server skip redis-py's per-command cost on a
        # connection of the layer's own (see _wire; needs hiredis). Cluster and Sentinel
        # route and fail over through redis-py, and so does any spec _endpoint cannot serve.
        self.endpoint = None if waits else lean_endpoint(spec)
        self.lean = self.endpoint is not None
        self._wire: Wire | None = None
        self._wire_lock = asyncio.Lock()
        self._reader_wires: set[Wire] = set()
        self.command_timeout = float(spec.get("socket_timeout", 10.0))

    async def restarted(self) -> bool | None:
        """Note the server's run id; say whether it changed (None: unknown or first look)."""
        try:
            info = await self.execute("INFO", "server")
        except (RedisError, OSError):
            return None
        if "run_id" in info:
            identity = str(info["run_id"])
        else:  # a cluster answers per node
            identity = ",".join(
                sorted(str(node.get("run_id")) for node in info.values() if isinstance(node, dict))
            )
        previous, self.run_identity = self.run_identity, identity
        return None if previous is None else previous != identity

    def _make_client(self, size: int, *, retries: int = RETRIES) -> Any:
        spec = dict(self.spec)
        options: dict[str, Any] = {
            "retry": _retry(retries),
            # redis-py before 6 retries a command only for the errors named here.
            "retry_on_error": [RedisConnectionError, RedisTimeoutError] if retries else [],
            "socket_connect_timeout": 5.0,
        }
        options["socket_timeout"] = spec.pop("socket_timeout", 10.0)
        if unverified_tls(spec) and "ssl_check_hostname" not in spec:
            # redis-py 6.0 checks the host name by default even then, which ssl refuses.
            options["ssl_check_hostname"] = False
        if "cluster_nodes" in spec:
            nodes = [ClusterNode(host, port) for host, port in spec.pop("cluster_nodes")]
            return RedisCluster(startup_nodes=nodes, max_connections=size, **options, **spec)
        if "sentinels" in spec:
            sentinel = Sentinel(  # type: ignore[no-untyped-call]
                spec.pop("sentinels"),
                sentinel_kwargs=spec.pop("sentinel_kwargs", None) or {"socket_timeout": 5.0},
            )
            self._sentinels.append(sentinel)
            name = spec.pop("master_name")
            return sentinel.master_for(name, max_connections=size, **options, **spec)
        if "address" in spec:
            pool = BlockingConnectionPool.from_url(
                spec.pop("address"),
                max_connections=size,
                timeout=self.pool_timeout,
                **options,
                **spec,
            )
        else:
            pool = BlockingConnectionPool(
                max_connections=size, timeout=self.pool_timeout, **options, **spec
            )
        return Redis(connection_pool=pool)

    async def execute(self, *args: Any, blocking: bool = False) -> Any:
        """Run one command; ``blocking`` ones (BLPOP...) use the readers' pool.

        Raises:
            redis.exceptions.TimeoutError: No answer within the command timeout (plus the
                time to connect, and the block of a blocking command).
        """
        client = self.reader if blocking else self.client
        limit = self._limits[id(client)]
        if limit is not None:
            async with asyncio.timeout(self.pool_timeout):
                await limit.acquire()
        # redis-py bounds each read by socket_timeout, but not every wait of a command
        # (its health-check PING on a stalled server waited as long as the stall): the
        # whole command is bounded here, as the lean connection bounds its own.
        budget = self.command_timeout + CONNECT_BUDGET + (BLOCK_SECONDS if blocking else 0)
        try:
            async with asyncio.timeout(budget):
                return await client.execute_command(*args)
        except TimeoutError as error:
            if isinstance(error, RedisTimeoutError):
                raise
            raise RedisTimeoutError(
                f"Redis at {self._where()} did not answer within {budget:g} s"
            ) from error
        finally:
            if limit is not None:
                limit.release()

    async def run_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script by SHA, loading it on first use or after a server restart."""
        run = self.lean_command if self.lean else self.execute
        sha = self._shas.get(source)
        if sha is not None:
            try:
                return await run("EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:
                pass
        # redis-py routes "SCRIPT LOAD" to every cluster node as one command name.
        load = ("SCRIPT", "LOAD") if self.lean else ("SCRIPT LOAD",)
        loaded = await run(*load, source)
        self._shas[source] = loaded.decode() if isinstance(loaded, bytes) else loaded
        return await run("EVALSHA", self._shas[source], len(keys), *keys, *args)

    def lean_command(self, *args: Any) -> Awaitable[Any]:
        """Send one command on the lean connection; await the result for its reply.

        On an open connection this returns the reply's future itself: a command costs no
        coroutine of its own on the hot path.
        """
        wire = self._wire
        if wire is None or wire.closed:
            return self._connect_and_run(args)
        return wire.command(*args)

    async def _connect_and_run(self, args: tuple[Any, ...]) -> Any:
        async with self._wire_lock:  # callers arriving meanwhile share the new connection
            wire = self._wire
            if wire is None or wire.closed:
                wire = self._wire = await self._connect(self.command_timeout)
        return await wire.command(*args)

    async def _connect(self, command_timeout: float | None) -> Wire:
        """Open a lean connection, retrying like redis-py's clients do (about a second).

        Only connecting is retried: nothing has been sent yet, so a retry cannot run a
        command twice. A command whose connection drops after it was written fails, as its
        outcome is unknown.
        """
        assert self.endpoint is not None
        backoff = _backoff()
        for failures in range(RETRIES + 1):
            try:
                return await open_wire(self.endpoint, command_timeout)
            except AuthenticationError:
                raise  # retrying cannot fix a password
            except (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError) as error:
                if failures == RETRIES:
                    raise RedisConnectionError(
                        f"could not connect to Redis at {self._where()}: {error!r}"
                    ) from error
                await asyncio.sleep(backoff.compute(failures + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _where(self) -> str:
        endpoint = self.endpoint
        if endpoint is None:
            return repr(self.spec)
        return endpoint.path or f"{endpoint.host}:{endpoint.port}"

    async def open_reader(self) -> Wire | None:
        """A connection of its own for an inbox reader's subscription; None: use execute."""
        if not self.lean:
            return None
        wire = await self._connect(None)
        self._reader_wires.add(wire)
        return wire

    def close_reader(self, wire: Wire) -> None:
        wire.close()
        self._reader_wires.discard(wire)

    async def aclose(self) -> None:
        for wire in (self._wire, *self._reader_wires):
            if wire is not None:
                wire.close()
        self._wire = None
        self._reader_wires.clear()
        for client in (self.reader, self.client):
            await client.aclose()
        if not self.is_cluster:
            for client in (self.reader, self.client):
                await client.connection_pool.disconnect()
        for sentinel in self._sentinels:
            for sentinel_client in sentinel.sentinels:
                await sentinel_client.aclose()
