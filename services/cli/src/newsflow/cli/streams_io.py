"""Reading events back from streams (``newsflow tail`` and the demo)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from newsflow.shared.wire import ARTICLE_FIELD, EVENT_FIELD, decode_fields


async def read_events(
    redis: Redis,
    stream: str,
    *,
    from_start: bool,
    count: int | None,
    timeout: float | None,
    block_ms: int = 500,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Yield (entry id, event object) until ``count`` events or ``timeout`` seconds."""
    last_id = "0-0" if from_start else "$"
    if last_id == "$":
        # Resolve "$" once, so entries added between two reads are not skipped.
        info = await redis.xinfo_stream(stream) if await redis.exists(stream) else None
        last_id = info["last-generated-id"].decode() if info else "0-0"
    seen = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while count is None or seen < count:
        remaining_ms = block_ms
        if deadline is not None:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return
            remaining_ms = min(remaining_ms, block_ms)
        want = None if count is None else count - seen
        response: Any = await redis.xread({stream: last_id}, count=want, block=max(1, remaining_ms))
        for _name, entries in response or []:
            for entry_id, raw in entries:
                last_id = entry_id.decode()
                fields = decode_fields(raw)
                # an event, or on the raw stream an article as published
                body = fields.get(EVENT_FIELD, fields.get(ARTICLE_FIELD))
                try:
                    payload: dict[str, Any] = json.loads(body) if body else {"fields": fields}
                except json.JSONDecodeError:
                    payload = {"fields": fields}
                if not isinstance(payload, dict):
                    payload = {"fields": fields}
                seen += 1
                yield last_id, payload
                if count is not None and seen >= count:
                    return


async def read_many(
    redis: Redis,
    streams: list[str],
    *,
    from_start: bool,
    count: int | None,
    timeout: float | None,
    block_ms: int = 500,
) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    """Yield (stream, entry id, event object) from several streams (a stream's partitions) as
    they arrive, until ``count`` events in all or ``timeout`` seconds. One reader per stream:
    a cluster refuses one XREAD over keys of different slots."""
    if len(streams) == 1:
        async for entry_id, event in read_events(
            redis,
            streams[0],
            from_start=from_start,
            count=count,
            timeout=timeout,
            block_ms=block_ms,
        ):
            yield streams[0], entry_id, event
        return
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue(maxsize=1024)

    async def pump(stream: str) -> None:
        async for entry_id, event in read_events(
            redis,
            stream,
            from_start=from_start,
            count=count,
            timeout=timeout,
            block_ms=block_ms,
        ):
            await queue.put((stream, entry_id, event))

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    seen = 0
    try:
        while count is None or seen < count:
            if queue.empty() and all(t.done() for t in tasks):
                for t in tasks:
                    t.result()  # a reader's error is the caller's
                return
            try:
                item = await asyncio.wait_for(queue.get(), timeout=block_ms / 1000)
            except TimeoutError:
                continue
            seen += 1
            yield item
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
