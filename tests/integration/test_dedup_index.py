"""The shared duplicate index on a real Redis: decisions, atomicity across replicas, replay,
the time window, and memory per remembered article."""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from newsflow.dedup.index import DuplicateIndex
from newsflow.dedup.minhash import MinHashParams, features
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings

P = MinHashParams()
WORDS = [
    "council",
    "harbour",
    "ferry",
    "terminal",
    "mayor",
    "budget",
    "school",
    "bridge",
    "railway",
    "station",
    "museum",
    "park",
    "river",
    "market",
    "hospital",
    "police",
    "street",
    "festival",
    "library",
    "tram",
    "airport",
    "port",
    "island",
    "village",
    "minister",
    "election",
    "court",
    "report",
    "plan",
    "project",
    "year",
    "month",
    "week",
    "night",
    "morning",
    "city",
    "region",
]


def story(seed: int, n: int = 220) -> str:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n // 11):
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(10)).capitalize() + ".")
    return " ".join(sentences)


def index(redis: Redis, settings: Settings, **kw: object) -> DuplicateIndex:
    args: dict[str, object] = {
        "key_prefix": settings.key("dedup", ""),
        "window_seconds": 7 * 86400,
        "slots": 7,
        "threshold": 0.8,
        "bands": P.bands,
        "num_perm": P.num_perm,
    }
    args.update(kw)
    return DuplicateIndex(redis, **args)  # type: ignore[arg-type]


def feats(article_id: str, text: str, url: str | None = None) -> tuple[str, object]:
    return article_id, features(article_id, text, url, P)


async def test_unique_exact_url_and_near_duplicates(redis: Redis, settings: Settings) -> None:
    idx = index(redis, settings)
    base = story(1)
    words = base.split()
    words[10] = "zeppelin"  # one word changed: a near duplicate
    near = " ".join(words)
    decisions = await idx.check_and_insert(
        [
            feats("a", base, "https://example.com/story?utm_source=x"),
            feats("b", base.upper()),  # same text: exact duplicate by content
            feats("c", story(2), "http://www.example.com/story"),  # same URL: exact by URL
            feats("d", near),
            feats("e", story(3)),
        ]  # type: ignore[list-item]
    )
    got = [(d.article_id, d.status, d.method, d.cluster_id) for d in decisions]
    assert got == [
        ("a", "unique", "", "a"),
        ("b", "exact_duplicate", "content", "a"),
        ("c", "exact_duplicate", "url", "a"),
        ("d", "near_duplicate", "minhash", "a"),
        ("e", "unique", "", "e"),
    ]
    assert 0.8 <= decisions[3].similarity < 1.0


async def test_replay_gets_the_same_answer(redis: Redis, settings: Settings) -> None:
    idx = index(redis, settings)
    first = await idx.check_and_insert([feats("a", story(1)), feats("b", story(1))])  # type: ignore[list-item]
    again = await idx.check_and_insert([feats("b", story(1)), feats("a", story(1))])  # type: ignore[list-item]
    assert [d.status for d in first] == ["unique", "exact_duplicate"]
    assert again == [first[1], first[0]]


async def test_window_forgets_old_articles(redis: Redis, settings: Settings) -> None:
    idx = index(redis, settings, window_seconds=7 * 86400, slots=7)
    day = 86400.0
    t0 = 1_000 * day
    (a,) = await idx.check_and_insert([feats("a", story(1))], now=t0)  # type: ignore[list-item]
    (b,) = await idx.check_and_insert([feats("b", story(1))], now=t0 + 6 * day)  # type: ignore[list-item]
    assert (a.status, b.status) == ("unique", "exact_duplicate")
    # 9 days later the slot of "a" is outside the window: the same story is new again.
    (c,) = await idx.check_and_insert([feats("c", story(1))], now=t0 + 9 * day)  # type: ignore[list-item]
    assert c.status == "unique"
    # Keys expire on their own: the window bounds memory.
    ttl = await redis.ttl(idx.slot_keys(int(t0 // day))[0])
    assert 7 * 86400 < ttl <= 8 * 86400


async def test_replicas_racing_on_copies_agree_on_exactly_one_unique(
    redis_url: str, settings: Settings
) -> None:
    clients = [connect(redis_url) for _ in range(6)]
    try:
        indexes = [index(c, settings) for c in clients]
        for round_ in range(20):
            text = story(100 + round_)
            words = text.split()
            copies = []
            for i in range(6):
                w = list(words)
                w[5 + i] = f"edit{i}"  # near-identical copies, each slightly different
                copies.append(" ".join(w))
            results = await asyncio.gather(
                *(
                    idx.check_and_insert([feats(f"r{round_}-{i}", copies[i])])  # type: ignore[list-item]
                    for i, idx in enumerate(indexes)
                )
            )
            statuses = [r[0].status for r in results]
            assert statuses.count("unique") == 1, statuses
            root = next(r[0].article_id for r in results if r[0].status == "unique")
            assert all(r[0].cluster_id == root for r in results)
    finally:
        for c in clients:
            await c.aclose()


async def test_memory_per_remembered_article_is_under_1kb(redis: Redis, settings: Settings) -> None:
    idx = index(redis, settings)
    n = 2000
    batch = [
        feats(
            f"https://news.example.org/2026/11/{i}-story",
            story(10_000 + i),
            f"https://news.example.org/{i}",
        )
        for i in range(n)
    ]
    for start in range(0, n, 100):
        await idx.check_and_insert(batch[start : start + 100], now=5_000_000.0)  # type: ignore[arg-type]
    total = 0
    for key in idx.slot_keys(int(5_000_000.0 // idx.slot_seconds)):
        total += int(await redis.memory_usage(key, samples=0) or 0)
    per_article = total / n
    print(f"\nRedis bytes per remembered article: {per_article:.0f}")
    assert per_article <= 1024
