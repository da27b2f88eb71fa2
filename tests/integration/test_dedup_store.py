from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from newsflow.dedup.store import FingerprintStore
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings


async def test_claims_in_one_batch_resolve_in_order(redis: Redis, settings: Settings) -> None:
    store = FingerprintStore(redis, key_prefix=settings.key("fp", ""), window_seconds=60)
    owners = await store.claim_many([("f1", "a"), ("f1", "b"), ("f2", "c"), ("f1", "a")])
    assert owners == [None, "a", None, "a"]
    ttl = await redis.ttl(store.key("f1"))
    assert 0 < ttl <= 60, "fingerprints expire after the window"


async def test_concurrent_replicas_agree_on_exactly_one_first(
    redis_url: str, settings: Settings
) -> None:
    clients = [connect(redis_url) for _ in range(6)]
    try:
        stores = [
            FingerprintStore(c, key_prefix=settings.key("fp", ""), window_seconds=60)
            for c in clients
        ]
        for round_ in range(30):
            fp = f"race-{round_}"
            results = await asyncio.gather(
                *(s.claim_many([(fp, f"article-{i}")]) for i, s in enumerate(stores))
            )
            firsts = [i for i, (owner,) in enumerate(results) if owner is None]
            assert len(firsts) == 1, results
            winner = f"article-{firsts[0]}"
            assert all(owner in (None, winner) for (owner,) in results)
    finally:
        for c in clients:
            await c.aclose()
