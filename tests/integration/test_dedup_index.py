"""The shared duplicate index on a real Redis: decisions, atomicity across replicas, replay,
the time window, and memory per remembered article; each in both layouts: every slot read by
one script (one node), and each slot under its own hash tag with the older slots read first
(a cluster; hash tags work the same on one node, the cluster itself is in tests/e2e)."""

from __future__ import annotations

import asyncio
import random

import pytest
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


@pytest.fixture(params=[False, True], ids=["one-script", "spread"])
def spread(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def index(redis: Redis, settings: Settings, spread: bool, **kw: object) -> DuplicateIndex:
    args: dict[str, object] = {
        "spread": spread,
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


async def test_unique_exact_url_and_near_duplicates(
    redis: Redis, settings: Settings, spread: bool
) -> None:
    idx = index(redis, settings, spread)
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


async def test_replay_gets_the_same_answer(redis: Redis, settings: Settings, spread: bool) -> None:
    idx = index(redis, settings, spread)
    first = await idx.check_and_insert([feats("a", story(1)), feats("b", story(1))])  # type: ignore[list-item]
    again = await idx.check_and_insert([feats("b", story(1)), feats("a", story(1))])  # type: ignore[list-item]
    assert [d.status for d in first] == ["unique", "exact_duplicate"]
    assert again == [first[1], first[0]]


async def test_window_forgets_old_articles(redis: Redis, settings: Settings, spread: bool) -> None:
    idx = index(redis, settings, spread, window_seconds=7 * 86400, slots=7)
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


async def test_matches_in_older_slots_are_found(
    redis: Redis, settings: Settings, spread: bool
) -> None:
    """Every kind of match whose holder is in an older slot than the current one (on a cluster
    those slots are other hash tags, read before the script): URL, content, near, a replay,
    and the best of two near matches in different slots."""
    idx = index(redis, settings, spread)
    day = 86400.0
    t0 = 3_000 * day
    base = story(7)
    words = base.split()
    near = " ".join([*words[:20], "zeppelin", *words[21:]])
    closer_words = list(words)
    closer_words[150] = "airship"
    other = story(8)
    other_words = other.split()
    first = await idx.check_and_insert(
        [feats("a", base, "https://example.com/a"), feats("o", other)],  # type: ignore[list-item]
        now=t0,
    )
    # Another story's copy lands two days later, in a third slot.
    (o2,) = await idx.check_and_insert(
        [feats("o2", " ".join([*other_words[:-1], "zeppelin"]))],  # type: ignore[list-item]
        now=t0 + 2 * day,
    )
    later = await idx.check_and_insert(
        [
            feats("u", story(9), "https://example.com/a?utm_medium=x"),  # same URL
            feats("c", base.lower()),  # same content
            feats("n", near),  # near
            feats("a", base, "https://example.com/a"),  # a replay of "a"
        ],  # type: ignore[list-item]
        now=t0 + 3 * day,
    )
    got = [(d.article_id, d.status, d.method, d.cluster_id) for d in later]
    assert got == [
        ("u", "exact_duplicate", "url", "a"),
        ("c", "exact_duplicate", "content", "a"),
        ("n", "near_duplicate", "minhash", "a"),
        ("a", "unique", "", "a"),
    ]
    assert later[3] == first[0]
    assert (o2.status, o2.cluster_id) == ("near_duplicate", "o")
    # A copy of the later variant one more day on: found through whichever slot holds it.
    (n2,) = await idx.check_and_insert(
        [feats("n2", " ".join(closer_words))],  # type: ignore[list-item]
        now=t0 + 4 * day,
    )
    assert (n2.status, n2.cluster_id) == ("near_duplicate", "a")
    if spread:  # each slot under its own tag: the keys of one slot share one hash slot only
        keys = idx.slot_keys(int(t0 // day))
        assert all(k.startswith(f"{settings.key('dedup', '')}{{{int(t0 // day)}}}:") for k in keys)
        assert idx.keys(t0) == keys


async def test_a_call_writes_into_the_slot_it_read_for(
    redis: Redis, settings: Settings, spread: bool
) -> None:
    """The slot changing while a call reads the older slots (the clock read again for the
    script's keys) would put its articles in a slot the other replicas' lookups do not cover."""
    day = 86400.0
    ticks = iter([4_000 * day + day - 0.001, *(4_001 * day + k for k in range(10))])
    idx = index(redis, settings, spread, clock=lambda: next(ticks))
    (a,) = await idx.check_and_insert([feats("a", story(1))])  # type: ignore[list-item]
    assert a.status == "unique"
    assert await redis.exists(idx.slot_keys(4_000)[0]) == 1
    assert await redis.exists(idx.slot_keys(4_001)[0]) == 0


async def test_a_late_batch_into_the_previous_slot_is_still_seen(
    redis: Redis, settings: Settings, spread: bool
) -> None:
    """Just after a boundary, a replica still on the old slot (its batch begun before, or its
    clock behind) writes there after another replica found that slot empty: the next lookups
    read it again."""
    idx, late = index(redis, settings, spread), index(redis, settings, spread)
    day = 86400.0
    boundary = 5_000 * day
    (x,) = await idx.check_and_insert([feats("x", story(20))], now=boundary + 1)  # type: ignore[list-item]
    (a,) = await late.check_and_insert([feats("a", story(21))], now=boundary - 0.01)  # type: ignore[list-item]
    (b,) = await idx.check_and_insert([feats("b", story(21))], now=boundary + 2)  # type: ignore[list-item]
    assert (x.status, a.status) == ("unique", "unique")
    assert (b.status, b.cluster_id) == ("exact_duplicate", "a")


async def test_replicas_racing_on_copies_agree_on_exactly_one_unique(
    redis_url: str, settings: Settings, spread: bool
) -> None:
    clients = [connect(redis_url) for _ in range(6)]
    try:
        indexes = [index(c, settings, spread) for c in clients]
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


async def test_memory_per_remembered_article_is_under_1kb(
    redis: Redis, settings: Settings, spread: bool
) -> None:
    idx = index(redis, settings, spread)
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
