"""Partitions of the pipeline's streams, and the hash tags that place them on a Redis Cluster.

With ``partitions = N`` every stream is N streams. Partition ``i`` of every stream, its dead
letters and the stage's bookkeeping keys of that partition (failures, rate counters) carry the
same hash tag ``{p<i>.<k>}``, so they live in one cluster slot: a stage's output transaction
(outputs, DLQ entry, XACK) never spans slots. The tag of partition ``i`` is chosen so that its
slot falls in the ``i``-th of N equal slot ranges: the ranges ``redis-cli --cluster create``
gives its primaries, so N = primaries puts one partition on each primary and N = 2 x primaries
two on each.

An article's partition is a stable function of its id (CRC-32), the same in every publisher.
Nothing here talks to Redis.
"""

from __future__ import annotations

import zlib
from functools import cache

SLOTS = 16384


def _crc16(data: bytes) -> int:
    """CRC-16/XMODEM, the checksum Redis Cluster maps keys to slots with."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str | bytes) -> int:
    """The cluster slot of a key, hash tags included (as CLUSTER KEYSLOT answers)."""
    raw = key.encode() if isinstance(key, str) else key
    start = raw.find(b"{")
    if start >= 0:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return _crc16(raw) % SLOTS


@cache
def partition_tag(index: int, count: int) -> str:
    """The hash tag (braces included) of partition ``index`` of ``count``."""
    if not 0 <= index < count:
        raise ValueError(f"partition {index} out of range 0..{count - 1}")
    low = index * SLOTS // count
    high = (index + 1) * SLOTS // count
    k = 0
    while True:
        tag = f"p{index}.{k}"
        if low <= key_slot(tag) < high:
            return "{" + tag + "}"
        k += 1


def partition_of(article_id: str, count: int) -> int:
    """The partition an article is published to: stable across processes and versions."""
    if count <= 1:
        return 0
    return zlib.crc32(article_id.encode("utf-8")) % count
