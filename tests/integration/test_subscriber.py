"""newsflow.client.Subscriber against a real Redis: groups, acknowledgement when the body ends,
reclaim of a dead consumer's entries, the retry cap and its dead-letter stream, skipped
redeliveries, batches and partitions."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from newsflow.client import Subscriber
from newsflow.shared.events import ArticleEvent, DedupSection
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_event
from tests.conftest import SettingsFactory
from tests.helpers import wait_until


def _event(article_id: str) -> dict[str, str | bytes]:
    return encode_event(
        ArticleEvent(
            id=article_id,
            text=f"Text of {article_id}.",
            dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
        )
    )


async def _publish(redis: Redis, settings: Settings, ids: list[str]) -> None:
    for article_id in ids:
        stream = settings.partition_for(article_id).streams.enriched
        await redis.xadd(stream, _event(article_id))  # type: ignore[arg-type]


async def _pending(redis: Redis, settings: Settings, group: str) -> int:
    total = 0
    for stream in settings.partition_streams("enriched"):
        total += int((await redis.xpending(stream, group))["pending"])
    return total


async def test_every_event_once_and_acknowledged(redis: Redis, settings: Settings) -> None:
    ids = [f"a{i}" for i in range(150)]
    await _publish(redis, settings, ids)
    got = []
    async with Subscriber.connect(settings=settings, group="app", count=20) as sub:
        async for event in sub:
            got.append(event.id)
            if len(got) == len(ids):
                break
    assert got == ids  # one partition: stream order
    assert await _pending(redis, settings, "app") == 0, "the last one too, on a clean exit"
    info = await redis.xinfo_groups(settings.streams.enriched)
    assert info[0]["entries-read"] == len(ids)


async def test_start_at_dollar_skips_the_backlog(redis: Redis, settings: Settings) -> None:
    await _publish(redis, settings, ["old"])
    async with Subscriber.connect(settings=settings, group="live", start="$", block_ms=50) as sub:
        await _publish(redis, settings, ["new"])
        event = await sub.__anext__()
        assert event.id == "new"


async def test_a_body_that_raises_leaves_its_event_pending_until_the_retry_cap(
    redis: Redis, settings: Settings
) -> None:
    await _publish(redis, settings, ["bad", "good"])
    options = {"group": "app", "reclaim_idle_ms": 30, "max_deliveries": 2, "block_ms": 20}
    seen: list[str] = []

    async def idle_enough() -> bool:  # what is pending has waited out reclaim_idle_ms
        pending = await redis.xpending_range(settings.streams.enriched, "app", "-", "+", 10)
        return all(p["time_since_delivered"] >= 30 for p in pending)

    for attempt in range(4):
        try:  # the exception leaves the block: its event is not acknowledged
            async with Subscriber.connect(
                settings=settings, consumer=f"c{attempt}", **options
            ) as sub:
                async for event in sub:
                    seen.append(event.id)
                    if event.id == "bad":
                        raise RuntimeError("handler failed")
                    break
        except RuntimeError:
            pass
        if "good" in seen and await _pending(redis, settings, "app") == 0:
            break
        await wait_until(idle_enough, timeout=5)
    assert seen.count("bad") == 2, seen  # delivered twice, then dead-lettered
    assert seen.count("good") == 1
    letters = await redis.xrange(f"{settings.streams.enriched}.app.dlq")
    (letter,) = [fields for _, fields in letters]
    assert b"delivered 2 times" in letter[b"reason"]
    assert json.loads(letter[b"fields"])["id"] == "bad"
    assert await _pending(redis, settings, "app") == 0


async def test_invalid_entries_go_to_the_subscribers_dead_letters(
    redis: Redis, settings: Settings
) -> None:
    await redis.xadd(settings.streams.enriched, {"event": "{not json"})
    await _publish(redis, settings, ["ok"])
    async with Subscriber.connect(settings=settings, group="app") as sub:
        event = await sub.__anext__()
        assert event.id == "ok" and sub.dead_lettered == 1
    (letter,) = [f for _, f in await redis.xrange(f"{settings.streams.enriched}.app.dlq")]
    assert letter[b"reason"].startswith(b"not a valid event")


async def test_a_redelivered_article_id_is_skipped(redis: Redis, settings: Settings) -> None:
    """The pipeline may publish an article twice (publish then ack is not atomic)."""
    await _publish(redis, settings, ["x", "y", "x", "z"])
    got = []
    async with Subscriber.connect(settings=settings, group="app", block_ms=20) as sub:
        async for event in sub:
            got.append(event.id)
            if event.id == "z":
                break
        assert sub.skipped == 1
    assert got == ["x", "y", "z"]
    seen = f"{settings.streams.enriched}.app.seen"
    assert set(await redis.zrange(seen, 0, -1)) == {b"x", b"y", b"z"}
    assert await redis.ttl(seen) > 0  # forgotten after seen_ttl_s


async def test_processed_hook_skips_what_the_subscribers_store_has(
    redis: Redis, settings: Settings
) -> None:
    await _publish(redis, settings, ["p1", "p2", "p3"])

    async def processed(article_id: str) -> bool:
        return article_id == "p2"

    got = []
    options = {"group": "app", "seen_ttl_s": 0, "processed": processed}
    async with Subscriber.connect(settings=settings, **options) as sub:
        async for event in sub:
            got.append(event.id)
            if event.id == "p3":
                break
    assert got == ["p1", "p3"]
    assert not await redis.exists(f"{settings.streams.enriched}.app.seen")  # seen ids off


async def test_batches_are_acknowledged_together(redis: Redis, settings: Settings) -> None:
    ids = [f"b{i}" for i in range(25)]
    await _publish(redis, settings, ids)
    sizes = []
    async with Subscriber.connect(settings=settings, group="bulk", block_ms=20, count=10) as sub:
        async for batch in sub.batches(10):
            sizes.append(len(batch))
            assert await _pending(redis, settings, "bulk") == len(batch)  # the earlier: acked
            if sum(sizes) == len(ids):
                break
    assert sizes == [10, 10, 5]
    assert await _pending(redis, settings, "bulk") == 0


async def test_every_partition_is_read(redis: Redis, make_settings: SettingsFactory) -> None:
    settings = make_settings(partitions=3)
    ids = [f"q{i}" for i in range(60)]
    await _publish(redis, settings, ids)
    assert all([await redis.xlen(s) for s in settings.partition_streams("enriched")])
    got = set()
    async with Subscriber.connect(settings=settings, group="app", block_ms=20) as sub:
        async for event in sub:
            got.add(event.id)
            if len(got) == len(ids):
                break
    assert got == set(ids)
    assert await _pending(redis, settings, "app") == 0


def test_group_names_are_checked(settings: Settings) -> None:
    with pytest.raises(ValueError, match="group"):
        Subscriber.connect(settings=settings, group="{x}")


def test_sync_subscriber_for_scripts(settings: Settings) -> None:
    """The same in synchronous code: a for loop, batches, and the acknowledgements."""
    import redis as sync_redis

    from newsflow.client import SyncSubscriber

    client = sync_redis.Redis.from_url(settings.redis_url)
    try:
        for i in range(12):
            client.xadd(settings.streams.enriched, _event(f"s{i}"))  # type: ignore[arg-type]
        got = []
        with SyncSubscriber.connect(settings=settings, group="script", block_ms=20) as sub:
            for event in sub:
                got.append(event.id)
                if len(got) == 5:
                    break  # then leaving the block acknowledges the fifth
        sizes = []
        with SyncSubscriber.connect(settings=settings, group="script", block_ms=20) as sub:
            for batch in sub.batches(4):
                sizes.append(len(batch))
                if sum(sizes) == 7:
                    break
        assert got == [f"s{i}" for i in range(5)] and sizes == [4, 3]
        pending = client.xpending(settings.streams.enriched, "script")
        assert pending["pending"] == 0
    finally:
        client.close()
