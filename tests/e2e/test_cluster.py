"""newsflow on a real local Redis Cluster (3 primaries, 3 replicas, ``redis-server`` processes):
the services as compose runs them, with NEWSFLOW_REDIS_CLUSTER=true and 3 partitions.

* the pipeline end to end, duplicates sent to other partitions than their original caught.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from newsflow.cli.services import SERVICES
from newsflow.shared.local_cluster import LocalCluster
from newsflow.shared.local_redis import find_redis_server
from newsflow.shared.partitions import key_slot, partition_of
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from tests.e2e.conftest import Processes
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

WORDS = (
    "harbour council river budget school railway festival museum factory election bridge "
    "market hospital airport library stadium forest island village tunnel parliament court "
    "theatre garden energy water housing police weather farmers teachers nurses drivers "
    "students bakery ferry mountain valley coast storm harvest concert exhibition"
).split()


def _cluster() -> LocalCluster:
    if find_redis_server() is None:
        message = "no redis-server binary: the Redis Cluster tests need one"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return LocalCluster(node_timeout_ms=2000)


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    with _cluster() as running:
        yield running


def cluster_settings(cluster: LocalCluster, **overrides: Any) -> Settings:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "redis_url": cluster.url,
        "redis_cluster": True,
        "partitions": 3,
        "stream_prefix": f"c{tag}.",
        "key_prefix": f"nfc{tag}:",
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values)


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "NEWSFLOW_REDIS_URL": settings.redis_url,
        "NEWSFLOW_REDIS_CLUSTER": "true",
        "NEWSFLOW_PARTITIONS": str(settings.partitions),
        "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
        "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
        "NEWSFLOW_BLOCK_MS": "100",
        # a dead primary's pending entries are taken over within seconds, not 30 s
        "NEWSFLOW_RECLAIM_IDLE_MS": "3000",
        "NEWSFLOW_RECLAIM_INTERVAL_MS": "500",
    }


def story(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


async def ids_on(redis: Redis, settings: Settings, name: str) -> list[str]:
    out: list[str] = []
    for view in settings.partition_views():
        stream = getattr(view.streams, name)
        for _, fields in await redis.xrange(stream):
            out.append(json.loads(fields[b"event"])["id"])
    return out


async def total(redis: Redis, settings: Settings, name: str) -> int:
    return sum(
        [int(await redis.xlen(getattr(v.streams, name))) for v in settings.partition_views()]
    )


def _pipeline_on(cluster: LocalCluster, processes: Processes) -> Settings:
    """The three services as compose runs them, on the cluster with 3 partitions."""
    settings = cluster_settings(cluster)
    for name in SERVICES:
        processes.start_compose_service(name, settings, env_of(settings))
    return settings


async def test_pipeline_on_a_cluster_with_partitions(
    cluster: LocalCluster, processes: Processes
) -> None:
    settings = _pipeline_on(cluster, processes)
    rng = random.Random(7)
    originals = [
        {"id": f"o{i}", "title": f"Story {i}", "text": "Mayor Clara Duvall visited Lyon. "
         + story(rng, 60)}
        for i in range(30)
    ]  # fmt: skip
    exact = [{"id": f"x{i}", "title": "copy", "text": originals[i]["text"]} for i in range(10)]
    near = [
        {"id": f"n{i}", "title": "edited", "text": originals[i]["text"].replace(".", "!", 1)}
        for i in range(10, 20)
    ]
    # The copies really are on other partitions than their originals (the point of the test).
    moved = sum(
        partition_of(c["id"], 3) != partition_of(originals[int(c["id"][1:])]["id"], 3)
        for c in exact + near
    )
    assert moved >= 10
    redis = connect(cluster.url, cluster=True)
    try:
        async with ArticlePublisher.connect(settings) as pub:
            await pub.publish(originals)

            async def originals_out() -> bool:
                return await total(redis, settings, "enriched") >= 30

            # The originals first (the first copy of a story to reach dedup is the unique
            # one, whichever partition it is on), then the copies, on other partitions.
            await wait_until(originals_out, timeout=180, interval=0.2, what="30 enriched")
            report = await pub.publish(exact + near)
        assert report.published == 20

        async def all_out() -> bool:
            return (
                await total(redis, settings, "enriched")
                + await total(redis, settings, "duplicates")
                >= 50
            )

        await wait_until(all_out, timeout=180, interval=0.2, what="50 articles out")
        enriched = await ids_on(redis, settings, "enriched")
        duplicates = await ids_on(redis, settings, "duplicates")
        assert sorted(enriched) == sorted(o["id"] for o in originals)
        assert sorted(duplicates) == sorted(c["id"] for c in exact + near)
        # every partition carries part of the stream
        per_partition = [await redis.xlen(v.streams.enriched) for v in settings.partition_views()]
        assert all(n > 0 for n in per_partition), per_partition
        assert await total(redis, settings, "dlq") == 0
    finally:
        await redis.aclose()
    processes.stop_pipeline()


async def _lengths(redis: Redis, streams: list[str]) -> list[int | None]:
    """XLEN of each stream; None for one whose node does not answer (mid-failover)."""
    out: list[int | None] = []
    for stream in streams:
        try:
            out.append(int(await redis.xlen(stream)))
        except Exception:  # a dead primary's slots, until its replica is promoted
            out.append(None)
    return out


def _reports(n: int) -> list[dict[str, str]]:
    rng = random.Random(11)
    return [
        {"id": f"f{i}", "title": f"Report {i}", "text": f"Report {i}. " + story(rng, 40)}
        for i in range(n)
    ]


async def _all_out_once(
    redis: Redis, settings: Settings, articles: list[dict[str, str]], what: str
) -> None:
    """Wait for every article on the enriched streams, then: none lost, none twice, no
    duplicates verdicts, nothing dead-lettered."""
    enriched = [v.streams.enriched for v in settings.partition_views()]

    async def all_out() -> bool:
        ids: set[str] = set()
        for stream in enriched:
            for _, fields in await redis.xrange(stream):
                ids.add(json.loads(fields[b"event"])["id"])
        return len(ids) >= len(articles)

    await wait_until(all_out, timeout=240, interval=0.5, what=f"{len(articles)} ids enriched")
    out = await ids_on(redis, settings, "enriched")
    lost = {a["id"] for a in articles} - set(out)
    duplicated = len(out) - len(set(out))
    print(f"{what}; {len(out)} enriched, {len(lost)} lost, {duplicated} duplicated")
    assert (len(lost), duplicated) == (0, 0)
    assert await total(redis, settings, "duplicates") == 0
    assert await total(redis, settings, "dlq") == 0


async def _half_published_and_flowing(
    redis: Redis, pub: ArticlePublisher, settings: Settings, articles: list[dict[str, str]]
) -> int:
    """Publish the first half of ``articles`` and wait until 256 are enriched; returns how many
    were published."""
    enriched = [v.streams.enriched for v in settings.partition_views()]
    report = await pub.publish(articles[: len(articles) // 2])

    async def some_out() -> bool:
        return sum(n or 0 for n in await _lengths(redis, enriched)) >= 256

    await wait_until(some_out, timeout=180, interval=0.05, what="256 enriched")
    return report.published


async def test_kill_a_primary_mid_run_loses_and_duplicates_nothing(
    cluster: LocalCluster, processes: Processes
) -> None:
    """kill -9 of the primary that holds one partition, mid-run of 2,000 articles (half of them
    published after the kill): its replica takes over, the services and the publisher carry on
    by themselves, and every article comes out once."""
    settings = _pipeline_on(cluster, processes)
    articles = _reports(2000)
    redis = connect(cluster.url, cluster=True)
    views = settings.partition_views()
    enriched = [v.streams.enriched for v in views]
    try:
        async with ArticlePublisher.connect(settings) as pub:
            first = await _half_published_and_flowing(redis, pub, settings, articles)
            victim = cast(RedisCluster, redis).get_node_from_key(views[1].streams.raw)
            assert victim is not None
            before = (await _lengths(redis, enriched))[1] or 0
            cluster.kill(victim.port)
            killed_at = time.monotonic()
            # the publisher carries on through the failover too (its chunks to the dead
            # partition are retried until the replica is promoted, never written twice)
            publishing = asyncio.create_task(pub.publish(articles[1000:]))

            async def promoted() -> bool:
                return len(cluster.primary_ports()) == 3

            await wait_until(promoted, timeout=60, interval=0.05, what="a replica promoted")
            promoted_s = time.monotonic() - killed_at
            second = await publishing
        assert first + second.published == 2000

        async def partition_moves() -> bool:
            return ((await _lengths(redis, enriched))[1] or 0) > before

        await wait_until(partition_moves, timeout=60, interval=0.05, what="output after kill")
        first_output_s = time.monotonic() - killed_at
        assert victim.port not in cluster.primary_ports()
        await _all_out_once(
            redis,
            settings,
            articles,
            f"failover: replica promoted {promoted_s:.1f} s and first output of the killed "
            f"partition {first_output_s:.1f} s after the kill",
        )
    finally:
        await redis.aclose()
    processes.stop_pipeline()


async def test_resharding_mid_run_loses_and_duplicates_nothing(
    cluster: LocalCluster, processes: Processes
) -> None:
    """One partition's slot migrated to another primary (keys and all, as `redis-cli --cluster
    reshard` does) mid-run of 2,000 articles, half published during the move: the services
    and the publisher follow the slot by themselves, and every article comes out once."""
    settings = _pipeline_on(cluster, processes)
    articles = _reports(2000)
    redis = connect(cluster.url, cluster=True)
    views = settings.partition_views()
    try:
        async with ArticlePublisher.connect(settings) as pub:
            first = await _half_published_and_flowing(redis, pub, settings, articles)
            slot = key_slot(views[1].streams.raw)
            owner = cast(RedisCluster, redis).get_node_from_key(views[1].streams.raw)
            assert owner is not None
            target = next(p for p in cluster.primary_ports() if p != owner.port)
            started = time.monotonic()
            moving = asyncio.create_task(asyncio.to_thread(cluster.migrate_slot, slot, target))
            second = await pub.publish(articles[1000:])
            moved = await moving
            move_s = time.monotonic() - started
        assert first + second.published == 2000
        await cast(RedisCluster, redis).nodes_manager.initialize()
        now = cast(RedisCluster, redis).get_node_from_key(views[1].streams.raw)
        assert now is not None and now.port == target
        await _all_out_once(
            redis,
            settings,
            articles,
            f"resharding: slot {slot} ({moved} keys) moved in {move_s:.1f} s",
        )
    finally:
        await redis.aclose()
    processes.stop_pipeline()


def test_demo_runs_on_a_private_cluster() -> None:
    """``newsflow demo --cluster``: the samples through a private 3+3 cluster with 3
    partitions; the tram story's copies are caught whichever partition each lands on (which
    copy comes out as the original depends on the partitions' order)."""
    import subprocess
    import sys
    from pathlib import Path

    if find_redis_server() is None and os.environ.get("CI", "").lower() != "true":
        pytest.skip("no redis-server binary")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "newsflow.cli.main", "demo", "--cluster", "--timeout", "150"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Started a private Redis Cluster" in out and "3 partitions" in out
    assert "exact_duplicate of demo-en-tram" in out and "near_duplicate of demo-en-tram" in out
    assert "dead-lettered at dedup" in out
    assert "6 enriched, 2 duplicates, 2 dead letters" in out


async def test_dedup_index_spread_over_the_primaries(cluster: LocalCluster) -> None:
    """The dedup service's index on the cluster: a week of time slots on different primaries,
    copies caught whichever slot (and node) holds their original, each call confirmed by WAIT
    on the current slot's primary."""
    from newsflow.dedup.app import index_from
    from newsflow.dedup.minhash import MinHashParams, features

    settings = cluster_settings(cluster)
    redis = cast(RedisCluster, connect(cluster.url, cluster=True))
    index = index_from(settings, redis)
    params = MinHashParams()
    rng = random.Random(5)
    day = 86400.0
    t0 = 20_000 * day
    texts = [story(rng, 300) for _ in range(6)]
    try:
        # One original a day, each in its own slot.
        for k, text in enumerate(texts):
            (d,) = await index.check_and_insert(
                [(f"o{k}", features(f"o{k}", text, f"https://example.org/{k}", params))],
                now=t0 + k * day,
            )
            assert d.status == "unique"
        nodes = {
            redis.get_node_from_key(index.slot_keys(int(t0 // day) + k)[0]).name
            for k in range(len(texts))
        }
        assert len(nodes) >= 2, "the slots are spread over the primaries"
        # On day 6, copies of every original: exact, by URL, near.
        copies = []
        for k, text in enumerate(texts):
            words = text.split()
            words[k + 3] = "zeppelin"
            variant = " ".join(words)
            kind = ("exact", "url", "near")[k % 3]
            body = text.upper() if kind == "exact" else variant
            url = f"https://example.org/{k}?utm_source=feed" if kind == "url" else None
            copies.append((f"c{k}", features(f"c{k}", body, url, params)))
        decided = await index.check_and_insert(copies, now=t0 + 6 * day)
        got = [(d.status, d.method, d.cluster_id) for d in decided]
        assert got == [
            ("exact_duplicate", "content", "o0"),
            ("exact_duplicate", "url", "o1"),
            ("near_duplicate", "minhash", "o2"),
            ("exact_duplicate", "content", "o3"),
            ("exact_duplicate", "url", "o4"),
            ("near_duplicate", "minhash", "o5"),
        ]
        output = index._output
        assert output is not None and output.short_confirmations == 0, "every call WAITed"
    finally:
        await index.close()
        await redis.aclose()


async def test_subscriber_reads_every_partition_of_a_cluster(cluster: LocalCluster) -> None:
    """newsflow.client.Subscriber unchanged on the cluster layout: every partition's stream (one
    slot each) read in turn, acknowledged, its dead letters beside their stream."""
    from newsflow.client import Subscriber
    from newsflow.shared.events import ArticleEvent, DedupSection
    from newsflow.shared.wire import encode_event

    settings = cluster_settings(cluster)
    redis = connect(cluster.url, cluster=True)
    ids = [f"c{i}" for i in range(60)]
    try:
        # first in its partition, so it is met before that partition's events
        await redis.xadd(settings.partition(2).streams.enriched, {"event": "{broken"})
        for article_id in ids:
            event = ArticleEvent(
                id=article_id,
                text="Text.",
                dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
            )
            stream = settings.partition_for(article_id).streams.enriched
            await redis.xadd(stream, encode_event(event))  # type: ignore[arg-type]
        got = set()
        async with Subscriber.connect(settings=settings, group="app", block_ms=50) as sub:
            async for event in sub:
                got.add(event.id)
                if len(got) == len(ids):
                    break
            assert sub.dead_lettered == 1
        assert got == set(ids)
        for view in settings.partition_views():
            pending = await redis.xpending(view.streams.enriched, "app")
            assert pending["pending"] == 0
        letters = await redis.xlen(f"{settings.partition(2).streams.enriched}.app.dlq")
        assert letters == 1
    finally:
        await redis.aclose()
