"""The layer's own connection against private servers: AUTH/ACL, db, RESP2/3, TLS, Unix socket."""

from __future__ import annotations

import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from redis.exceptions import AuthenticationError

from chanx.redis import RedisChannelLayer
from chanx.redis._connection import unverified_tls
from chanx.redis._endpoint import lean_endpoint

from ._servers import RedisProcess, cli, free_port, require_binary, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PASSWORD = "s3cret-default"
ALICE = "alice-pw"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A server with a default-user password, an ACL user and a Unix socket."""
    workdir = tmp_path_factory.mktemp("redis-auth")
    extra = [
        "--requirepass",
        PASSWORD,
        "--user",
        "alice",
        "on",
        f">{ALICE}",
        "~*",
        "&*",
        "+@all",
        "--unixsocket",
        str(workdir / "redis.sock"),
    ]
    process = RedisProcess(free_port(), workdir, extra)
    try:
        _start(process)
        yield process
    finally:
        process.kill()


def _start(process: RedisProcess) -> None:
    # RedisProcess.start pings without a password; with one set, the server answers NOAUTH,
    # which still proves it is up.
    command = [require_binary("redis-server"), *process.extra]
    command += ["--port", str(process.port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(process.workdir)]
    process.process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=process.workdir
    )
    wait_until(
        lambda: "NOAUTH" in cli(process.port, "ping", timeout=2),
        timeout=10,
        what=f"redis-server with a password on port {process.port}",
    )


async def _round_trip(url: str) -> None:
    """Two layers (two processes, in effect) exchange a message and a group message."""
    prefix = f"ep{uuid.uuid4().hex[:6]}"
    sender = RedisChannelLayer.from_url(url, prefix=prefix)
    receiver = RedisChannelLayer.from_url(url, prefix=prefix)
    try:
        channel = await receiver.new_channel()
        await receiver.group_add("room", channel)
        with anyio.fail_after(10):
            await sender.send(channel, {"type": "direct", "n": 1})
            assert await receiver.receive(channel) == {"type": "direct", "n": 1}
            await sender.group_send("room", {"type": "group", "n": 2})
            assert await receiver.receive(channel) == {"type": "group", "n": 2}
        assert receiver._state().shards[0].lean  # the layer's own connection carried them
        await receiver.flush()
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_acl_user_and_database(server: RedisProcess, protocol: int) -> None:
    url = f"redis://alice:{ALICE}@127.0.0.1:{server.port}/5?protocol={protocol}"
    prefix = f"ep{uuid.uuid4().hex[:6]}"
    layer = RedisChannelLayer.from_url(url, prefix=prefix)
    try:
        channel = await layer.new_channel()
        await layer.group_add("room", channel)
        found = cli(
            server.port,
            "--user",
            "alice",
            "--pass",
            ALICE,
            "--no-auth-warning",
            "-n",
            "5",
            "exists",
            f"{prefix}:gr:{{room}}",
        )
        assert found == "1"  # written to database 5, as the URL says
    finally:
        await layer.flush()
        await layer.close()
    await _round_trip(url)


@pytest.mark.parametrize("protocol", [2, 3])
async def test_default_user_password(server: RedisProcess, protocol: int) -> None:
    await _round_trip(f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0?protocol={protocol}")


@pytest.mark.parametrize("protocol", [2, 3])
async def test_a_wrong_password_fails_at_once_and_clearly(
    server: RedisProcess, protocol: int
) -> None:
    layer = RedisChannelLayer.from_url(
        f"redis://alice:wrong@127.0.0.1:{server.port}/0?protocol={protocol}"
    )
    try:
        with anyio.fail_after(5), pytest.raises(AuthenticationError):
            await layer.send("plain-channel", {"type": "x"})
    finally:
        await layer.close()


async def test_unix_socket(server: RedisProcess) -> None:
    socket_path = server.workdir / "redis.sock"
    await _round_trip(f"unix://{socket_path}?db=1&password={PASSWORD}")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisProcess, Path]]:
    workdir = tmp_path_factory.mktemp("redis-tls")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [
            require_binary("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    extra = ["--tls-port", str(free_port()), "--tls-cert-file", str(cert)]
    extra += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(cert)]
    extra += ["--tls-auth-clients", "no"]
    process = RedisProcess(free_port(), workdir, extra)
    try:
        process.start()  # the plain port answers its readiness ping; the tests use the TLS one
        yield process, cert
    finally:
        process.kill()


def _tls_port(process: RedisProcess) -> int:
    return int(process.extra[process.extra.index("--tls-port") + 1])


@pytest.mark.parametrize("protocol", [2, 3])
async def test_tls_with_a_verified_certificate(
    tls_server: tuple[RedisProcess, Path], protocol: int
) -> None:
    process, cert = tls_server
    port = _tls_port(process)
    await _round_trip(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}&protocol={protocol}")


async def test_tls_refuses_an_unknown_certificate(tls_server: tuple[RedisProcess, Path]) -> None:
    process, _ = tls_server
    layer = RedisChannelLayer.from_url(f"rediss://127.0.0.1:{_tls_port(process)}/0")
    try:
        with anyio.fail_after(10), pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            await layer.send("plain-channel", {"type": "x"})
    finally:
        await layer.close()


async def test_tls_without_verification_when_asked(tls_server: tuple[RedisProcess, Path]) -> None:
    process, _ = tls_server
    await _round_trip(f"rediss://127.0.0.1:{_tls_port(process)}/0?ssl_cert_reqs=none")


@pytest.mark.parametrize(
    "spec",
    [
        {"address": "redis://h:1/0", "health_check_interval": 5},  # not ours to handle
        {"host": "h", "port": 1, "credential_provider": object()},
    ],
)
def test_options_the_own_connection_does_not_handle_keep_redis_py(spec: dict[str, Any]) -> None:
    assert lean_endpoint(spec) is None


def test_endpoint_reads_urls_like_redis_py() -> None:
    endpoint = lean_endpoint({"address": "rediss://bob:pw@example.org:6380/3?protocol=3"})
    assert endpoint is not None
    assert (endpoint.host, endpoint.port, endpoint.db) == ("example.org", 6380, 3)
    assert (endpoint.username, endpoint.password, endpoint.protocol) == ("bob", "pw", 3)
    assert endpoint.ssl is not None
    assert endpoint.ssl.check_hostname
    with pytest.raises(ValueError, match="protocol 2 or 3"):
        lean_endpoint({"address": "redis://h/0?protocol=4"})


def test_without_hiredis_the_layer_runs_on_redis_py(redis_url: str) -> None:
    # hiredis is an extra: without it nothing may import it, and the standard path serves.
    code = f"""
import asyncio, sys, uuid
sys.modules["hiredis"] = None  # as if it were not installed
from chanx.redis import RedisChannelLayer

async def main():
    layer = RedisChannelLayer.from_url({redis_url!r}, prefix="nohi" + uuid.uuid4().hex[:6])
    one = RedisChannelLayer.from_url({redis_url!r}, prefix=layer.prefix)
    channel = await layer.new_channel()
    await one.send(channel, {{"type": "x"}})
    assert await asyncio.wait_for(layer.receive(channel), 10) == {{"type": "x"}}
    assert not layer._state().shards[0].lean
    assert "chanx.redis._wire" not in sys.modules
    await layer.flush()
    await layer.close()
    await one.close()
    print("ok")

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("spec", "unverified"),
    [
        ({"address": "rediss://h:1/0?ssl_cert_reqs=none"}, True),
        ({"address": "rediss://h:1/0?ssl_cert_reqs=none&ssl_check_hostname=true"}, False),
        ({"address": "rediss://h:1/0"}, False),
        ({"host": "h", "port": 1, "ssl": True, "ssl_cert_reqs": "none"}, True),
        ({"host": "h", "port": 1, "ssl": True, "ssl_cert_reqs": ssl.CERT_NONE}, True),
        ({"host": "h", "port": 1, "ssl": True, "ssl_cert_reqs": "required"}, False),
    ],
)
def test_tls_without_verification_skips_the_host_name_check(
    spec: dict[str, Any], unverified: bool
) -> None:
    # redis-py 6.0 checks host names by default even without verification, which ssl refuses.
    assert unverified_tls(spec) is unverified
