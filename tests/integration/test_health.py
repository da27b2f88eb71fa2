from __future__ import annotations

import asyncio
import json

from faststream import TestApp
from redis.asyncio import Redis

from newsflow.dedup.app import create_app as create_dedup
from newsflow.shared.local_redis import free_port
from newsflow.shared.settings import Settings
from tests.helpers import wait_until


async def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_liveness_and_readiness(redis: Redis, settings: Settings) -> None:
    port = free_port()
    settings = settings.model_copy(update={"health_port": port, "health_host": "127.0.0.1"})
    async with TestApp(create_dedup(settings)):
        assert await _get(port, "/livez") == (200, {"live": True})
        status, body = await _get(port, "/readyz")
        assert status == 200 and body["ready"] is True
        assert body["checks"] == {"started": True, "subscriber": True, "redis": True, "group": True}
        assert (await _get(port, "/nope"))[0] == 404
        # The group vanished (Redis lost its data): not ready until it is recreated.
        await redis.delete(settings.streams.raw)

        async def ready_again() -> bool:
            return (await _get(port, "/readyz"))[0] == 200

        await wait_until(ready_again, timeout=20, what="ready again after recovery")


async def test_not_ready_is_503_with_the_failing_checks() -> None:
    from newsflow.shared.health import HealthServer

    async def down() -> dict[str, bool]:
        return {"redis": False, "group": True}

    async def broken() -> dict[str, bool]:
        raise ConnectionError("redis gone")

    for check, expected in ((down, {"redis": False, "group": True}), (broken, None)):
        server = HealthServer("127.0.0.1", 0, check)
        await server.start()
        try:
            status, body = await _get(server.port, "/readyz")
        finally:
            await server.stop()
        assert status == 503 and body["ready"] is False
        if expected:
            assert body["checks"] == expected
        else:
            assert body["error"] == "ConnectionError"
