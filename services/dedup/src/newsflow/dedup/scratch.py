"""A throw-away duplicate index for the evaluation and the benchmark (never used by the stage).

Uses the given Redis under a unique key prefix (deleted afterwards), or a private redis-server.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from newsflow.dedup.index import DuplicateIndex
from newsflow.dedup.minhash import MinHashParams
from newsflow.shared.local_redis import LocalRedis
from newsflow.shared.redis_streams import connect


@asynccontextmanager
async def scratch_index(
    redis_url: str | None, params: MinHashParams, *, threshold: float = 0.8
) -> AsyncIterator[tuple[Redis, DuplicateIndex]]:
    server = LocalRedis().start() if redis_url is None else None
    client = connect(server.url if server else str(redis_url))
    prefix = f"newsflow-scratch:{time.time_ns()}:"
    index = DuplicateIndex(
        client,
        key_prefix=prefix,
        window_seconds=7 * 86400,
        slots=7,
        threshold=threshold,
        bands=params.bands,
        num_perm=params.num_perm,
    )
    try:
        yield client, index
    finally:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
        if server is not None:
            server.stop()
