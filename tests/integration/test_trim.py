from __future__ import annotations

from redis.asyncio import Redis

from newsflow.shared.redis_streams import safe_trim_id, trim_consumed
from newsflow.shared.settings import Settings


async def test_trim_keeps_what_any_group_still_needs(redis: Redis, settings: Settings) -> None:
    stream = settings.streams.unique
    ids = [(await redis.xadd(stream, {"n": str(i)})).decode() for i in range(300)]
    assert await safe_trim_id(redis, stream) is None, "no groups: never trimmed by this rule"
    await redis.xgroup_create(stream, "fast", id="0")
    await redis.xgroup_create(stream, "slow", id="0")
    await redis.xreadgroup("fast", "c", {stream: ">"}, count=300)
    await redis.xack(stream, "fast", *ids)
    # slow read 200 and acked only the first 100: entries from ids[100] on are still needed.
    await redis.xreadgroup("slow", "c", {stream: ">"}, count=200)
    await redis.xack(stream, "slow", *ids[:100])
    assert await safe_trim_id(redis, stream) == ids[100]
    await trim_consumed(redis, stream)
    remaining = [eid.decode() for eid, _ in await redis.xrange(stream)]
    assert set(ids[100:]) <= set(remaining), "nothing pending or unread was trimmed"
    assert len(remaining) < 300, "fully acknowledged entries were trimmed"

    await redis.xack(stream, "slow", *ids[100:200])
    ms, seq = ids[199].split("-")
    assert await safe_trim_id(redis, stream) == f"{ms}-{int(seq) + 1}"
    # unread entries (lag) of "slow" stay: ids[200:] were never delivered to it
    await trim_consumed(redis, stream)
    remaining = [eid.decode() for eid, _ in await redis.xrange(stream)]
    assert set(ids[200:]) <= set(remaining)
    assert len(remaining) < 200
