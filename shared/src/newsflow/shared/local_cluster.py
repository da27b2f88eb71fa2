"""A private Redis Cluster on loopback (for ``newsflow cluster up``, ``make cluster-up`` and the
tests): ``primaries`` primaries with ``replicas`` replicas each, one ``redis-server
--cluster-enabled yes`` process per node, joined by ``redis-cli --cluster create``.

Nodes write an append-only file in their own directory (a primary that is killed and started
again comes back as a replica of whoever took over). :meth:`kill` sends SIGKILL to one node, for
failover tests; :meth:`stop` stops every node and removes the directory unless it was given.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from newsflow.shared.local_redis import find_redis_server, free_port, stop_process


def _send(port: int, *args: str, timeout: float = 1.0) -> str:
    """One command in the inline protocol; the raw reply as text ('' when nothing answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall((" ".join(args) + "\r\n").encode())
            chunks = []
            sock.settimeout(timeout)
            while True:
                data = sock.recv(65536)
                chunks.append(data)
                text = b"".join(chunks)
                if not data or _complete(text):
                    return text.decode(errors="replace")
    except OSError:
        return ""


def _complete(reply: bytes) -> bool:
    if reply[:1] in (b"+", b"-", b":"):
        return reply.endswith(b"\r\n")
    if reply[:1] == b"$":
        head, _, rest = reply.partition(b"\r\n")
        size = int(head[1:])
        return size < 0 or len(rest) >= size + 2
    return False


def _role(port: int) -> str:
    for line in _send(port, "INFO", "replication").splitlines():
        if line.startswith("role:"):
            return line[5:].strip()
    return ""


@dataclass
class Node:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class LocalCluster:
    def __init__(
        self,
        *,
        primaries: int = 3,
        replicas: int = 1,
        base_port: int | None = None,
        directory: str | Path | None = None,
        binary: str | None = None,
        node_timeout_ms: int = 2000,
    ) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise RuntimeError(
                "no redis-server found: install Redis (apt-get install redis-server)"
            )
        cli = shutil.which(
            "redis-cli", path=f"{Path(found).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        )
        if cli is None:
            raise RuntimeError("no redis-cli found next to redis-server or on PATH")
        self.binary = found
        self.cli = cli
        self.primaries = primaries
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="newsflow-cluster-"))
        count = primaries * (1 + replicas)
        ports = [base_port + i for i in range(count)] if base_port else free_cluster_ports(count)
        self.nodes = [Node(p, self.directory / str(p)) for p in ports]

    @property
    def url(self) -> str:
        """A startup node's URL (any node will do: the client discovers the others)."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def _start_node(self, node: Node) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        node.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(node.port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(self.node_timeout_ms),
                "--appendonly", "yes",
                "--save", "",
                "--dir", str(node.directory),
                "--logfile", str(node.directory / "redis.log"),
                "--pidfile", str(node.directory / "redis.pid"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def _wait_pong(self, node: Node, deadline: float) -> None:
        while time.monotonic() < deadline:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {node.port} exited")
            if _send(node.port, "PING").startswith("+PONG"):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {node.port} did not answer")

    def start(self, timeout: float = 60.0) -> LocalCluster:
        deadline = time.monotonic() + timeout
        fresh = not any((n.directory / "nodes.conf").exists() for n in self.nodes)
        for node in self.nodes:
            self._start_node(node)
        try:
            for node in self.nodes:
                self._wait_pong(node, deadline)
            if fresh:
                subprocess.run(
                    [
                        self.cli, "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", str(self.replicas),
                        "--cluster-yes",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=max(1.0, deadline - time.monotonic()),
                )  # fmt: skip
            self.wait_ok(deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise
        return self

    def state(self, port: int | None = None) -> dict[str, str]:
        """CLUSTER INFO of one node (the first live one by default) as a dict."""
        target = port or next((n.port for n in self.nodes if n.alive), self.nodes[0].port)
        reply = _send(target, "CLUSTER", "INFO")
        lines = reply.split("\r\n", 1)[1] if reply.startswith("$") else ""
        return dict(line.split(":", 1) for line in lines.splitlines() if ":" in line)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every live node says cluster_state:ok with all slots served by a live primary
        and every live replica is synced."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = [n for n in self.nodes if n.alive]
            states = [self.state(n.port) for n in live]
            if (
                states
                and all(
                    s.get("cluster_state") == "ok" and s.get("cluster_slots_ok") == "16384"
                    for s in states
                )
                and all(self._synced(n.port) for n in live)
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"cluster not ok within {timeout:.0f}s: {self.state()}")

    def _synced(self, port: int) -> bool:
        info = _send(port, "INFO", "replication")
        if "role:slave" not in info:
            return True
        return "master_link_status:up" in info and "master_sync_in_progress:0" in info

    def primary_ports(self) -> list[int]:
        """Ports of the live nodes that are primaries now."""
        return [
            n.port
            for n in self.nodes
            if n.alive and "role:master" in _send(n.port, "INFO", "replication")
        ]

    def kill(self, port: int) -> None:
        """SIGKILL one node (a crashed machine, as far as the cluster can tell)."""
        node = next(n for n in self.nodes if n.port == port)
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait()

    def migrate_slot(self, slot: int, to_port: int, batch: int = 50) -> int:
        """Move one slot, keys and all, to the primary on ``to_port`` while clients keep using
        it (the IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE sequence `redis-cli --cluster
        reshard` runs). Returns how many keys moved."""
        import redis

        def client(port: int) -> Any:  # execute_command is untyped in redis-py
            return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)

        primaries: dict[int, Any] = {port: client(port) for port in self.primary_ports()}
        try:
            ranges = next(iter(primaries.values())).execute_command("CLUSTER", "SLOTS")
            owner = next(int(r[2][1]) for r in ranges if int(r[0]) <= slot <= int(r[1]))
            if owner == to_port:
                return 0
            src, dst = primaries[owner], primaries[to_port]
            src_id = src.execute_command("CLUSTER", "MYID").decode()
            dst_id = dst.execute_command("CLUSTER", "MYID").decode()
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            moved = 0
            while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch):
                src.execute_command("MIGRATE", "127.0.0.1", to_port, "", 0, 10000, "KEYS", *keys)
                moved += len(keys)
            for c in (dst, src, *(c for p, c in primaries.items() if p not in (owner, to_port))):
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
            return moved
        finally:
            for c in primaries.values():
                c.close()

    def revive(self, port: int, timeout: float = 30.0) -> None:
        """Start a killed node again (it rejoins, as a replica if its primary was replaced)."""
        node = next(n for n in self.nodes if n.port == port)
        self._start_node(node)
        self._wait_pong(node, time.monotonic() + timeout)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:  # all told first, so they shut down side by side
            if node.process is not None:
                stop_process(node.process)
            node.process = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_detached(directory: str | Path, timeout: float = 10.0) -> list[int]:
    """Stop the nodes of a cluster started in ``directory`` by another process (``newsflow
    cluster up``): SIGTERM each node's pid file, wait for it to exit. Returns the pids."""
    stopped = []
    for pidfile in sorted(Path(directory).glob("*/redis.pid")):
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (ValueError, ProcessLookupError, FileNotFoundError):
            continue
        stopped.append(pid)
    deadline = time.monotonic() + timeout
    for pid in stopped:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    return stopped


def free_cluster_ports(count: int) -> list[int]:
    """``count`` free loopback ports whose cluster-bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports
