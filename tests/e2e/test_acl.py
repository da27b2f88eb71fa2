"""Least privilege: Redis started by compose's own start script with the ACL template; the
services run with their own users (compose's environment, secrets from files) and each user is
denied what belongs to another service."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, ResponseError

from newsflow.cli.services import SERVICES
from newsflow.shared.local_redis import find_redis_server, free_port
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from tests.conftest import SettingsFactory
from tests.e2e.conftest import ROOT, Processes
from tests.helpers import wait_for_len

USERS = ("admin", "publisher", "dedup", "language", "entity")


class AclRedis:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.secrets = tmp / "secrets"
        self.secrets.mkdir()
        self.passwords = {u: secrets.token_urlsafe(18) for u in USERS}
        for user, password in self.passwords.items():
            (self.secrets / f"redis_{user}_password").write_text(password + "\n")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, user: str) -> str:
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def start(self, prefix: str, key_prefix: str) -> None:
        binary = find_redis_server()
        assert binary
        env = {
            **os.environ,
            "PATH": f"{Path(binary).parent}{os.pathsep}{os.environ['PATH']}",
            "SECRETS_DIR": str(self.secrets),
            "ACL_FILE": str(self.tmp / "users.acl"),
            "ACL_TEMPLATE": str(ROOT / "deploy" / "redis" / "users.acl.template"),
            "NEWSFLOW_STREAM_PREFIX": prefix,
            "NEWSFLOW_KEY_PREFIX": key_prefix,
        }
        self.proc = subprocess.Popen(
            [str(ROOT / "deploy" / "redis" / "start-redis.sh"), "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        import socket

        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("ACL Redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


@pytest.fixture
def acl_redis(tmp_path: Path, settings: Settings) -> Iterator[AclRedis]:
    if shutil.which("sha256sum") is None:
        pytest.fail("sha256sum (coreutils) is needed by deploy/redis/start-redis.sh")
    server = AclRedis(tmp_path)
    server.start(settings.stream_prefix, settings.key_prefix)
    yield server
    server.stop()


async def _denied(client: Redis, *command: str) -> None:
    with pytest.raises((NoPermissionError, ResponseError)) as info:
        await client.execute_command(*command)
    assert "NOPERM" in str(info.value) or "no permissions" in str(info.value), info.value


async def test_services_run_with_their_own_users_and_nothing_more(
    acl_redis: AclRedis, make_settings: SettingsFactory, settings: Settings, processes: Processes
) -> None:
    base = make_settings(
        redis_url=f"redis://127.0.0.1:{acl_redis.port}/0",
        stream_prefix=settings.stream_prefix,
        key_prefix=settings.key_prefix,
    )
    s = base.streams
    for name in SERVICES:
        processes.start_compose_service(name, base, secrets_dir=acl_redis.secrets)

    publisher = connect(acl_redis.url("publisher"))
    admin = connect(acl_redis.url("admin"))
    clients = {u: connect(acl_redis.url(u)) for u in ("dedup", "language", "entity")}
    try:
        article = {"id": "acl-1", "title": "Ferry", "text": "Clara Duvall opened the ferry."}
        await publisher.xadd(s.raw, {"article": json.dumps(article)})
        await publisher.xadd(s.raw, {"article": json.dumps(article | {"id": "acl-2"})})
        await wait_for_len(admin, s.enriched, 1, timeout=120)
        await wait_for_len(admin, s.duplicates, 1, timeout=10)

        # The publisher can write articles, and read nothing.
        await _denied(publisher, "XRANGE", s.raw, "-", "+")
        await _denied(publisher, "XADD", s.unique, "*", "a", "b")
        # Each service: no access to another service's streams or keys.
        dedup, language, entity = clients["dedup"], clients["language"], clients["entity"]
        await _denied(dedup, "XRANGE", s.language, "-", "+")
        await _denied(dedup, "XRANGE", s.enriched, "-", "+")  # not its stream
        await _denied(dedup, "XADD", s.enriched, "*", "a", "b")
        await _denied(dedup, "HGETALL", f"{base.key_prefix}failures:{base.group('entity')}")
        await _denied(language, "XRANGE", s.raw, "-", "+")
        await _denied(language, "GET", f"{base.key_prefix}dedup:fp:x")
        await _denied(language, "XADD", s.duplicates, "*", "a", "b")
        await _denied(entity, "XREADGROUP", "GROUP", base.group("language"), "x",
                      "STREAMS", s.unique, ">")  # fmt: skip
        await _denied(entity, "XRANGE", s.unique, "-", "+")
        await _denied(publisher, "XRANGE", s.dlq, "-", "+")
        await _denied(entity, "FLUSHALL")
        await _denied(entity, "KEYS", "*")
        await _denied(dedup, "CONFIG", "GET", "requirepass")
        # The default user is off: no access without a password.
        anonymous = connect(f"redis://127.0.0.1:{acl_redis.port}/0")
        with pytest.raises(Exception, match=r"(?i)auth|noperm"):
            await anonymous.xlen(s.raw)
        await anonymous.aclose()
    finally:
        for c in (publisher, admin, *clients.values()):
            await c.aclose()
    for name in SERVICES:
        log = processes.log(name)
        assert acl_redis.passwords[name] not in log, "a password leaked into the logs"
        assert "NOPERM" not in log, f"{name} needed a permission it lacks:\n{log[-2000:]}"
        assert processes.stop(name) == 0


def _service_users(acl: AclRedis, prefix: str, key_prefix: str) -> list[list[str]]:
    """ACL SETUSER arguments of the publisher and the services, rendered from the template as
    start-redis.sh renders it (SHA-256 password hashes)."""
    import hashlib

    text = (ROOT / "deploy" / "redis" / "users.acl.template").read_text(encoding="utf-8")
    text = text.replace("${PREFIX}", prefix).replace("${KEYS}", key_prefix)
    for user, password in acl.passwords.items():
        digest = hashlib.sha256(password.encode()).hexdigest()
        text = text.replace(f"${{{user.upper()}_HASH}}", digest)
    return [
        line.split()[1:]
        for line in text.splitlines()
        if line.startswith("user ") and line.split()[1] in ("publisher", *SERVICES)
    ]


async def test_services_run_with_their_own_users_on_a_cluster(
    tmp_path: Path, processes: Processes
) -> None:
    """The same users on every node of a 3+3 cluster with 3 partitions: each service reads the
    slot map, runs its partitions and the shared dedup index with its own user, and is denied
    another service's partition streams. (The default user stays on here: the local cluster's
    replication and ``redis-cli --cluster create`` use it.)"""
    from newsflow.shared.local_cluster import LocalCluster
    from newsflow.shared.publisher import ArticlePublisher
    from tests.e2e.test_cluster import _cluster, cluster_settings, env_of, total

    acl = AclRedis(tmp_path)
    with _cluster() as cluster:
        assert isinstance(cluster, LocalCluster)
        settings = cluster_settings(cluster)
        for port in cluster.ports:
            node = connect(f"redis://127.0.0.1:{port}/0")
            for args in _service_users(acl, settings.stream_prefix, settings.key_prefix):
                await node.execute_command("ACL", "SETUSER", *args)
            await node.aclose()
        for name in SERVICES:
            processes.start_compose_service(
                name, settings, env_of(settings), secrets_dir=acl.secrets
            )
        user_url = cluster.url.replace("redis://", "redis://{user}:{password}@")
        publisher = settings.model_copy(
            update={"redis_url": user_url.format(user="publisher", **_pw(acl, "publisher"))}
        )
        articles = [
            {"id": f"acl-c{i}", "title": f"Ferry {i}", "text": f"Clara Duvall opened ferry {i}."}
            for i in range(9)
        ]
        articles.append({"id": "acl-copy", "title": "copy", "text": articles[0]["text"]})
        async with ArticlePublisher.connect(publisher) as pub:
            await pub.publish(articles)
        admin = connect(cluster.url, cluster=True)
        entity = connect(user_url.format(user="entity", **_pw(acl, "entity")), cluster=True)
        try:
            deadline = time.monotonic() + 120
            while await total(admin, settings, "enriched") < 9:
                assert time.monotonic() < deadline, "the pipeline did not finish under ACL users"
                await asyncio.sleep(0.2)
            assert await total(admin, settings, "duplicates") == 1
            view = settings.partition(1)
            await _denied(entity, "XRANGE", view.streams.unique, "-", "+")
            await _denied(entity, "XADD", view.streams.duplicates, "*", "a", "b")
            await _denied(entity, "HGETALL", settings.shared_key_prefix("dedup") + "fp")
        finally:
            await admin.aclose()
            await entity.aclose()
        for name in SERVICES:
            log = processes.log(name)
            assert "NOPERM" not in log, f"{name} needed a permission it lacks:\n{log[-2000:]}"
            assert processes.stop(name) == 0


def _pw(acl: AclRedis, user: str) -> dict[str, str]:
    return {"password": acl.passwords[user]}
