"""Start the services exactly as compose.yaml does: its command and environment, as processes.

Only the Redis URL (the test's private Redis instead of the compose network's ``redis``) and the
per-test prefixes are overridden; programs resolve from this virtual environment's bin.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsflow.cli.services import SERVICES, local_argv
from newsflow.shared.local_redis import free_port
from newsflow.shared.settings import Settings
from tests.helpers import interpolate

ROOT = Path(__file__).resolve().parents[2]
SECRETS_MOUNT = "/run/secrets"
CREDENTIAL_VARS = {"NEWSFLOW_REDIS_USERNAME", "NEWSFLOW_REDIS_PASSWORD_FILE"}


def compose_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return data


def compose_service(
    name: str, variables: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """A service's command and environment, compose's variables substituted from
    ``variables`` (none: every default, as a plain ``docker compose up``)."""
    svc = compose_data()["services"][name]
    env = {str(k): interpolate(str(v), variables or {}) for k, v in svc["environment"].items()}
    return list(svc["command"]), env


def service_env(settings: Settings) -> dict[str, str]:
    return {
        "NEWSFLOW_REDIS_URL": settings.redis_url,
        "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
        "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
    }


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.health_ports: dict[str, int] = {}
        self.envs: dict[str, dict[str, str]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_compose_service(
        self,
        name: str,
        settings: Settings,
        extra_env: dict[str, str] | None = None,
        *,
        secrets_dir: Path | None = None,
        variables: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Compose's command and environment (``variables``: its --env-file's). Docker secrets
        (/run/secrets/...) are read from ``secrets_dir``; without one (a Redis without ACL
        users) the credentials are left out."""
        command, env = compose_service(name, variables)
        if "NEWSFLOW_HEALTH_PORT" in env:  # every local process needs a port of its own
            env["NEWSFLOW_HEALTH_PORT"] = str(free_port())
            self.health_ports[name] = int(env["NEWSFLOW_HEALTH_PORT"])
        self.envs[name] = env
        if secrets_dir is None:
            env = {k: v for k, v in env.items() if k not in CREDENTIAL_VARS}
        else:
            env = {k: v.replace(SECRETS_MOUNT, str(secrets_dir)) for k, v in env.items()}
        return self.start(
            name, local_argv(command), {**env, **service_env(settings), **(extra_env or {})}
        )

    def start_pipeline(self, settings: Settings, extra_env: dict[str, str] | None = None) -> None:
        """The three services, as compose runs them."""
        for name in SERVICES:
            self.start_compose_service(name, settings, extra_env)

    def stop_pipeline(self) -> None:
        """SIGTERM the three services; each must exit 0."""
        for name in SERVICES:
            assert self.stop(name) == 0, self.log(name)[-2000:]

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str, timeout: float = 30.0) -> int:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{name} did not stop within {timeout}s of SIGTERM") from None

    def alive(self) -> dict[str, bool]:
        return {n: p.poll() is None for n, p in self.procs.items()}


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    for proc in procs.procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A real headless Chromium (Debian's chromium and chromium-driver packages, `make
    browser`) driven by Selenium. Missing: a skip, or a failure under CI=true."""
    from newsflow.cli.bench_web import chromium_available, launch_chromium

    if not chromium_available():
        message = "needs Debian's chromium and chromium-driver: make browser"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    driver = launch_chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()
