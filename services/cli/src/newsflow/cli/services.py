"""How the services are started: the exact commands compose.yaml runs, as local processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

SERVICES = ("dedup", "language", "entity")


def service_command(service: str) -> list[str]:
    """The container command of a service (compose.yaml uses exactly this)."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; choose from {', '.join(SERVICES)}")
    return ["faststream", "run", f"newsflow.{service}.app:create_app", "--factory"]


def local_argv(command: Sequence[str]) -> list[str]:
    """Resolve a command's program from this interpreter's environment (the venv's bin)."""
    program, *rest = command
    candidate = Path(sys.executable).parent / program
    return [str(candidate) if candidate.exists() else program, *rest]


def wait_or_kill(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait for a process that was asked to stop; SIGKILL it after ``timeout`` seconds."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class ServiceGroup:
    """Starts services as child processes and stops them gracefully (SIGTERM, then SIGKILL)."""

    def __init__(
        self,
        services: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.services = list(services)
        self.env = {**os.environ, **(env or {})}
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self) -> ServiceGroup:
        for service in self.services:
            self.add(service, service_command(service))
        return self

    def add(
        self, name: str, command: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start one more process of the group (e.g. ``newsflow web`` beside the stages): it is
        polled, waited for and stopped with the others."""
        stdout: IO[bytes] | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stdout = (self.log_dir / f"{name}.log").open("ab")
            self._logs.append(stdout)
        self.procs[name] = subprocess.Popen(
            local_argv(command),
            env={**self.env, **(env or {})},
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout else None,
        )
        return self.procs[name]

    def poll(self) -> dict[str, int | None]:
        return {name: proc.poll() for name, proc in self.procs.items()}

    def wait_any(self, interval: float = 0.2) -> tuple[str, int]:
        """Block until one service exits; return its name and exit code."""
        while True:
            for name, code in self.poll().items():
                if code is not None:
                    return name, code
            time.sleep(interval)

    def stop(self, timeout: float = 20.0) -> dict[str, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes: dict[str, int] = {}
        for name, proc in self.procs.items():
            codes[name] = wait_or_kill(proc, max(0.1, deadline - time.monotonic()))
        for log in self._logs:
            log.close()
        self._logs.clear()
        return codes
