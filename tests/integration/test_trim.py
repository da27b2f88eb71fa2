from __future__ import annotations

from redis.asyncio import Redis

from newsflow.shared.redis_streams import forget_idle_consumers, safe_trim_id, trim_consumed
from newsflow.shared.settings import Settings
from tests.helpers import wait_until


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


async def test_consumers_of_gone_replicas_are_forgotten(redis: Redis, settings: Settings) -> None:
    stream, group = settings.streams.unique, "g"
    ids = [(await redis.xadd(stream, {"n": str(i)})).decode() for i in range(3)]
    await redis.xgroup_create(stream, group, id="0")
    for consumer in ("gone", "holding", "me"):
        await redis.xreadgroup(group, consumer, {stream: ">"}, count=1)
    await redis.xack(stream, group, ids[0])  # "gone" finished its entry; "holding" did not

    async def names() -> list[str]:
        return sorted(c["name"].decode() for c in await redis.xinfo_consumers(stream, group))

    # Nobody has been idle for a minute: nothing is removed.
    assert await forget_idle_consumers(redis, stream, group, 60_000, keep={"me"}) == []

    async def all_idle() -> bool:
        return all(int(c["idle"]) >= 50 for c in await redis.xinfo_consumers(stream, group))

    await wait_until(all_idle, timeout=5, what="consumers idle for 50 ms")
    # Idle past the bound: the one with nothing pending goes; one holding an entry stays
    # (the reclaimers move its entry first); this replica's own consumers stay.
    assert await forget_idle_consumers(redis, stream, group, 50, keep={"me"}) == ["gone"]
    assert await names() == ["holding", "me"]
    assert (await redis.xpending(stream, group))["pending"] == 2, "no pending entry was lost"
