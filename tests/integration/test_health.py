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


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


async def test_metrics_count_outcomes_duplicates_lag_and_latency(
    redis: Redis, settings: Settings
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"health_port": port, "health_host": "127.0.0.1"})
    text = "The harbour ferry will run every twenty minutes from Monday, the council said."
    await redis.xadd(settings.streams.raw, {"article": json.dumps({"id": "a", "text": text})})
    await redis.xadd(settings.streams.raw, {"article": json.dumps({"id": "b", "text": text})})
    await redis.xadd(settings.streams.raw, {"article": "{not json"})

    async def scrape() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"text/plain; version=0.0.4" in head
        return body.decode()

    async with TestApp(create_dedup(settings)):

        async def all_handled() -> bool:
            body = await scrape()
            return (
                _metric(body, "newsflow_entries_total", outcome="routed")
                + _metric(body, "newsflow_entries_total", outcome="dead_lettered")
                == 3
            )

        await wait_until(all_handled, timeout=20, what="3 entries counted")
        body = await scrape()
    service = {"service": "dedup"}
    assert _metric(body, "newsflow_entries_total", outcome="routed", **service) == 2
    assert _metric(body, "newsflow_entries_total", outcome="dead_lettered", **service) == 1
    assert _metric(body, "newsflow_outputs_total", stream=settings.streams.unique) == 1
    assert _metric(body, "newsflow_outputs_total", stream=settings.streams.duplicates) == 1
    assert _metric(body, "newsflow_entry_age_seconds_count", **service) == 3
    assert _metric(body, "newsflow_group_lag", **service) == 0
    assert _metric(body, "newsflow_group_pending", **service) == 0
    assert _metric(body, "newsflow_stream_length", stream=settings.streams.raw) == 3
    assert _metric(body, "newsflow_model_load_seconds", **service) > 0
    # FastStream's middleware counts the batches it delivered to the handler.
    assert _metric(body, "faststream_received_messages_total", app_name="dedup") >= 1
