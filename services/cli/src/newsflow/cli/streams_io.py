"""Reading events back from streams (``newsflow tail`` and the demo)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from newsflow.shared.wire import EVENT_FIELD, decode_fields


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
                if EVENT_FIELD in fields:
                    try:
                        payload: dict[str, Any] = json.loads(fields[EVENT_FIELD])
                    except json.JSONDecodeError:
                        payload = {"fields": fields}
                else:
                    payload = {"fields": fields}
                seen += 1
                yield last_id, payload
                if count is not None and seen >= count:
                    return
