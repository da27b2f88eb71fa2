"""rediss:// (TLS) with a CA file: the service runtime and the publisher connect over TLS."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faststream import TestApp
from redis.asyncio import Redis
from redis.exceptions import RedisError

from newsflow.dedup.app import create_app as create_dedup
from newsflow.shared.local_redis import find_redis_server, free_port
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.redis_streams import connect
from tests.conftest import SettingsFactory
from tests.helpers import wait_for_len


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificates")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=newsflow-test-ca",
        cwd=tmp_path,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=tmp_path,
    )
    (tmp_path / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext",
             cwd=tmp_path)  # fmt: skip
    port = free_port()
    binary = find_redis_server()
    assert binary
    proc = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", "server.crt", "--tls-key-file", "server.key",
         "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    deadline = time.monotonic() + 10
    while True:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
                context.wrap_socket(raw, server_hostname="localhost") as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("TLS Redis did not start (is redis-server built with TLS?)")
            time.sleep(0.1)
    yield port, tmp_path / "ca.crt"
    proc.terminate()
    proc.wait(timeout=10)


async def test_stage_and_publisher_over_tls(
    tls_redis: tuple[int, Path], make_settings: SettingsFactory
) -> None:
    port, ca = tls_redis
    settings = make_settings(redis_url=f"rediss://localhost:{port}/0", redis_ca_file=ca)
    client = connect(settings.redis_dsn())
    try:
        async with TestApp(create_dedup(settings)):
            async with ArticlePublisher.connect(settings) as pub:
                report = await pub.publish([{"id": "tls-1", "text": "Sent over TLS."}])
            assert report.published == 1
            await wait_for_len(client, settings.streams.unique, 1)
        plain = Redis.from_url(f"redis://localhost:{port}/0", socket_timeout=2)
        with pytest.raises(RedisError):
            await plain.ping()
        await plain.aclose()
    finally:
        await client.aclose()
