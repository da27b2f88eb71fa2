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
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, ResponseError

from newsflow.cli.services import SERVICES
from newsflow.shared.local_cluster import free_cluster_ports
from newsflow.shared.local_redis import find_redis_server, free_port
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from tests.conftest import SettingsFactory
from tests.e2e.conftest import ROOT, Processes, compose_data
from tests.helpers import env_file, http_get, wait_for_len, wait_until

USERS = ("admin", "publisher", "dedup", "language", "entity", "web")


def _redis_path() -> str:
    """PATH with the redis-server (and its redis-cli) the scripts run first."""
    binary = find_redis_server()
    assert binary
    return f"{Path(binary).parent}{os.pathsep}{os.environ['PATH']}"


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
        self.nodes: list[subprocess.Popen[bytes]] = []  # cluster nodes, when there are

    def url(self, user: str) -> str:
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def start(self, prefix: str, key_prefix: str) -> None:
        env = {
            **os.environ,
            "PATH": _redis_path(),
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
        for proc in [*([self.proc] if self.proc else []), *self.nodes]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*([self.proc] if self.proc else []), *self.nodes]:
            proc.wait(timeout=10)


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
    web_port = free_port()
    processes.start_compose_service(
        "web", base, {"NEWSFLOW_WEB_PORT": str(web_port)}, secrets_dir=acl_redis.secrets
    )

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

        # The live page reads everything with its read-only user, and can write nothing.
        async def page_shows_the_article() -> bool:
            metrics, articles = await asyncio.to_thread(_web_state, web_port)
            return metrics.get("error") is None and [a["id"] for a in articles] == ["acl-1"]

        await wait_until(page_shows_the_article, timeout=30, what="the page under its own user")
        web = connect(acl_redis.url("web"))
        try:
            await _denied(web, "XADD", s.enriched, "*", "a", "b")
            await _denied(web, "XGROUP", "CREATE", s.enriched, "peek", "0")
            await _denied(web, "XREADGROUP", "GROUP", base.group("entity"), "x",
                          "STREAMS", s.language, ">")  # fmt: skip
            await _denied(web, "DEL", s.raw)
            await _denied(web, "XTRIM", s.dlq, "MAXLEN", "0")
            await _denied(web, "GET", f"{base.key_prefix}dedup:fp:x")
            await _denied(web, "HGETALL", f"{base.key_prefix}failures:{base.group('entity')}")
        finally:
            await web.aclose()
        # The default user is off: no access without a password.
        anonymous = connect(f"redis://127.0.0.1:{acl_redis.port}/0")
        with pytest.raises(Exception, match=r"(?i)auth|noperm"):
            await anonymous.xlen(s.raw)
        await anonymous.aclose()
    finally:
        for c in (publisher, admin, *clients.values()):
            await c.aclose()
    for name in (*SERVICES, "web"):
        log = processes.log(name)
        assert acl_redis.passwords[name] not in log, "a password leaked into the logs"
        assert "NOPERM" not in log, f"{name} needed a permission it lacks:\n{log[-2000:]}"
        assert processes.stop(name) == 0


def _web_state(port: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The page's /api/metrics and /api/articles (empty while it is not answering yet)."""
    base = f"http://127.0.0.1:{port}/api"
    (status, metrics), (status2, articles) = (
        http_get(f"{base}/metrics"),
        http_get(f"{base}/articles"),
    )
    if (status, status2) != (200, 200):
        return {"error": "not answering"}, []
    return json.loads(metrics), json.loads(articles)["articles"]


def _compose_cluster_nodes(acl: AclRedis, tmp: Path, settings: Settings) -> list[int]:
    """The "cluster" profile's six nodes as processes: each node's compose command through the
    start script (its ACL users, replication as admin), on a free loopback port instead of
    its container's 6379 and announcing 127.0.0.1 instead of its service name."""
    services = compose_data()["services"]
    ports: list[int] = []
    # node ports whose cluster-bus port (port + 10000) is free and below 65536
    for i, port in enumerate(free_cluster_ports(6), start=1):
        node = services[f"redis-c{i}"]
        command = list(node["command"])
        command[command.index("--cluster-announce-hostname") + 1] = "127.0.0.1"
        folder = tmp / f"node{i}"
        folder.mkdir()
        env = {
            **os.environ,
            **node["environment"],
            "PATH": _redis_path(),
            "SECRETS_DIR": str(acl.secrets),
            "ACL_FILE": str(folder / "users.acl"),
            "ACL_TEMPLATE": str(ROOT / "deploy" / "redis" / "users.acl.template"),
            "REPLICATION_CONF": str(folder / "replication.conf"),
            "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
            "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
        }
        argv = [str(ROOT / "deploy" / "redis" / "start-redis.sh"), *command,
                "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]  # fmt: skip
        with (folder / "redis.log").open("wb") as log:
            acl.nodes.append(subprocess.Popen(argv, env=env, stdout=log, stderr=log))
        ports.append(port)
    health = services["redis-c1"]["healthcheck"]["test"][1:]  # compose's healthcheck command
    for port in ports:
        deadline = time.monotonic() + 20
        ping = [*health[:-1], "-p", str(port), health[-1]]
        while subprocess.run(ping, capture_output=True).stdout.strip() != b"PONG":
            logs = (tmp / f"node{ports.index(port) + 1}" / "redis.log").read_text()
            assert time.monotonic() < deadline, f"cluster node on {port} did not answer: {logs}"
            time.sleep(0.05)
    return ports


def _cluster_init(acl: AclRedis, ports: list[int]) -> subprocess.CompletedProcess[str]:
    """compose's one-shot ``redis-cluster`` service: its script and environment, the nodes'
    loopback addresses instead of their service names."""
    init = compose_data()["services"]["redis-cluster"]
    env = {
        **os.environ,
        "PATH": _redis_path(),
        "SECRETS_DIR": str(acl.secrets),
        "REPLICAS": init["environment"]["REPLICAS"],
        "NODES": " ".join(f"127.0.0.1:{p}" for p in ports),
    }
    script = str(ROOT / init["entrypoint"][0].replace("/etc/newsflow/", "deploy/redis/"))
    return subprocess.run([script], env=env, capture_output=True, text=True, timeout=120)


async def test_compose_cluster_profile_with_its_own_users(
    tmp_path: Path, make_settings: SettingsFactory, settings: Settings, processes: Processes
) -> None:
    """compose's "cluster" profile run as processes: six nodes through the start script (the
    default user off, replicas authenticating as admin), joined by cluster-init.sh, and the
    three services with compose's environment under deploy/cluster.env (cluster mode, 3
    partitions) and their own users: the pipeline runs, each user reaches only its own."""
    from newsflow.shared.publisher import ArticlePublisher
    from tests.e2e.test_cluster import total

    acl = AclRedis(tmp_path)
    try:
        ports = await asyncio.to_thread(_compose_cluster_nodes, acl, tmp_path, settings)
        first = await asyncio.to_thread(_cluster_init, acl, ports)
        assert first.returncode == 0, first.stdout + first.stderr
        again = await asyncio.to_thread(_cluster_init, acl, ports)
        assert again.returncode == 0 and "already created" in again.stdout, again.stderr

        variables = env_file(ROOT / "deploy" / "cluster.env")
        url = f"redis://127.0.0.1:{ports[0]}/0"
        base = make_settings(
            redis_url=url,
            redis_cluster=True,
            partitions=int(variables["NEWSFLOW_COMPOSE_PARTITIONS"]),
            stream_prefix=settings.stream_prefix,
            key_prefix=settings.key_prefix,
        )
        admin = connect(acl.url("admin").replace(str(acl.port), str(ports[0])), cluster=True)

        async def replicas_linked() -> bool:
            up = 0
            for port in ports:
                node = connect(acl.url("admin").replace(str(acl.port), str(port)))
                info = await node.info("replication")
                await node.aclose()
                up += info.get("role") == "slave" and info.get("master_link_status") == "up"
            return up == 3

        await wait_until(replicas_linked, timeout=30)  # replication under the admin user
        for name in SERVICES:
            processes.start_compose_service(
                name, base, {"NEWSFLOW_BLOCK_MS": "100"}, secrets_dir=acl.secrets,
                variables=variables,
            )  # fmt: skip
        web_port = free_port()
        processes.start_compose_service(
            "web", base, {"NEWSFLOW_WEB_PORT": str(web_port)}, secrets_dir=acl.secrets,
            variables=variables,
        )  # fmt: skip
        publisher = base.model_copy(
            update={"redis_url": acl.url("publisher").replace(str(acl.port), str(ports[0]))}
        )
        articles = [
            {"id": f"acl-c{i}", "title": f"Ferry {i}", "text": f"Clara Duvall opened ferry {i}."}
            for i in range(9)
        ]
        articles.append({"id": "acl-copy", "title": "copy", "text": articles[0]["text"]})
        async with ArticlePublisher.connect(publisher) as pub:
            await pub.publish(articles)
        entity = connect(acl.url("entity").replace(str(acl.port), str(ports[0])), cluster=True)
        try:

            async def enriched() -> bool:
                return await total(admin, base, "enriched") >= 9

            await wait_until(enriched, timeout=120)
            assert await total(admin, base, "duplicates") == 1

            async def page_shows_all() -> bool:  # every partition, under the web user
                metrics, articles = await asyncio.to_thread(_web_state, web_port)
                return (
                    metrics.get("error") is None
                    and metrics["partitions"] == 3
                    and metrics["streams"]["duplicates"] == 1
                    and len(articles) == 9
                )

            await wait_until(page_shows_all, timeout=30, what="the page on the cluster")
            view = base.partition(1)
            await _denied(entity, "XRANGE", view.streams.unique, "-", "+")
            await _denied(entity, "XADD", view.streams.duplicates, "*", "a", "b")
            await _denied(entity, "HGETALL", base.shared_key_prefix("dedup") + "fp")
            anonymous = connect(url, cluster=True)
            with pytest.raises(Exception, match=r"(?i)auth|noperm|cluster"):
                await anonymous.xlen(view.streams.raw)
            await anonymous.aclose()
        finally:
            await admin.aclose()
            await entity.aclose()
        for name in (*SERVICES, "web"):
            log = processes.log(name)
            assert "NOPERM" not in log, f"{name} needed a permission it lacks:\n{log[-2000:]}"
            assert processes.envs[name]["NEWSFLOW_REDIS_CLUSTER"] == "true"
            assert processes.stop(name) == 0
    finally:
        acl.stop()
