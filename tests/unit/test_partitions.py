"""Partitions: slots as Redis computes them, tags spread over the slot ranges, stable routing,
and the settings views a partitioned stage reads and writes."""

from __future__ import annotations

import pytest

from newsflow.dedup.index import slot_keys
from newsflow.shared.partitions import SLOTS, key_slot, partition_of, partition_tag
from newsflow.shared.settings import Settings


def test_key_slot_matches_redis_cluster_keyslot() -> None:
    # Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    assert key_slot("123456789") == 12739
    assert key_slot("foo") == 12182
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    assert key_slot("foo{}{bar}") == key_slot(b"foo{}{bar}")  # empty tag: whole key
    assert key_slot("foo{{bar}}zap") == key_slot("{bar")  # tag is "{bar"


@pytest.mark.parametrize("count", [1, 2, 3, 6, 16])
def test_each_partition_lands_in_its_own_slot_range(count: int) -> None:
    slots = [key_slot(partition_tag(i, count)) for i in range(count)]
    for i, slot in enumerate(slots):
        assert i * SLOTS // count <= slot < (i + 1) * SLOTS // count
    # Three primaries own thirds of the slots: 3 partitions -> one per primary, 6 -> two each.
    if count in (3, 6):
        per_third = [sum(1 for s in slots if s * 3 // SLOTS == k) for k in range(3)]
        assert per_third == [count // 3] * 3


def test_partition_of_is_stable_and_spreads() -> None:
    assert partition_of("any", 1) == 0
    ids = [f"article-{i}" for i in range(3000)]
    parts = [partition_of(i, 3) for i in ids]
    assert parts == [partition_of(i, 3) for i in ids]
    assert partition_of("article-0", 3) == 2  # crc32: the same in every process and version
    counts = [parts.count(k) for k in range(3)]
    assert min(counts) > 900


def test_one_node_one_partition_keeps_todays_names() -> None:
    settings = Settings()
    assert not settings.partitioned
    assert settings.partition(0) is settings
    assert settings.partition_views() == [settings]
    assert settings.streams.raw == "articles.raw"
    assert settings.shared_key_prefix("dedup") == "newsflow:dedup:"
    assert settings.wait_replicas == 0
    with pytest.raises(ValueError, match="only partition 0"):
        settings.partition(1)


def test_partition_views_share_one_slot_per_partition() -> None:
    settings = Settings(redis_cluster=True, partitions=3, stream_prefix="prod.")
    assert settings.wait_replicas == 1
    views = settings.partition_views()
    assert len({v.streams.raw for v in views}) == 3
    for view in views:
        keys = [*view.streams.all(), view.key("failures", view.group("dedup"))]
        assert len({key_slot(k) for k in keys}) == 1, keys
        assert view.streams.raw.startswith("prod.{p")
    assert key_slot(views[0].streams.raw) != key_slot(views[1].streams.raw)
    # The dedup index every partition shares: each time slot under a tag of its own (its four
    # keys in one hash slot), and the window's slots spread over the cluster's hash slots.
    prefix = settings.shared_key_prefix("dedup")
    window = [slot_keys(prefix, s, spread=True) for s in range(20425, 20433)]
    assert all(len({key_slot(k) for k in keys}) == 1 for keys in window)
    assert len({key_slot(keys[0]) for keys in window}) == len(window)
    ranges = [(0, 5460), (5461, 10922), (10923, 16383)]  # a 3-primary cluster's slot ranges
    owners = {
        next(i for i, (lo, hi) in enumerate(ranges) if lo <= key_slot(k[0]) <= hi) for k in window
    }
    assert len(owners) == 3, "a week's slots land on every primary of a 3-primary cluster"
    with pytest.raises(ValueError, match="already one partition"):
        views[0].partition(0)


def test_cluster_with_one_partition_still_tags_its_streams() -> None:
    view = Settings(redis_cluster=True).partition(0)
    assert view.streams.raw != "articles.raw"
    assert len({key_slot(k) for k in view.streams.all()}) == 1


def test_prefixes_may_not_hold_hash_tags() -> None:
    with pytest.raises(ValueError, match="hash tags"):
        Settings(stream_prefix="{x}")


def test_explicit_wait_replicas_wins() -> None:
    assert Settings(redis_cluster=True, redis_wait_replicas=0).wait_replicas == 0
    assert Settings(redis_wait_replicas=2).wait_replicas == 2


def test_publisher_routes_by_id() -> None:
    settings = Settings(partitions=3)
    view = settings.partition_for("article-0")
    assert view.streams.raw == settings.partition(2).streams.raw
