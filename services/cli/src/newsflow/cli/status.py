"""Pipeline status: per stream its length; per group its lag, pending entries and the age of
the oldest one, its consumers with their idle times, and its throughput over the last minute
(from per-minute counters the stages keep in Redis); the DLQ size. With partitions, every
partition's streams are listed (their groups and counters are the partition's own) and the DLQ
size is the sum over the partitions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis
from rich.console import Group
from rich.table import Table
from rich.text import Text

from newsflow.shared.rates import throughput
from newsflow.shared.redis_streams import consumer_info, group_info
from newsflow.shared.settings import Settings


@dataclass(slots=True)
class ConsumerStatus:
    name: str
    pending: int
    idle_s: float


@dataclass(slots=True)
class GroupStatus:
    name: str
    consumers: int
    pending: int
    lag: int | None
    last_delivered_id: str
    entries_read: int | None = None
    oldest_pending_age_s: float | None = None
    per_second_last_minute: float | None = None
    consumer_list: list[ConsumerStatus] = field(default_factory=list)


@dataclass(slots=True)
class StreamStatus:
    name: str
    length: int
    groups: list[GroupStatus] = field(default_factory=list)


async def _consumers(redis: Redis, stream: str, group: str) -> list[ConsumerStatus]:
    return [
        ConsumerStatus(
            name=str(c["name"]),
            pending=int(c.get("pending") or 0),
            idle_s=int(c.get("idle") or 0) / 1000,
        )
        for c in await consumer_info(redis, stream, group)
    ]


async def _oldest_pending_age(redis: Redis, stream: str, group: str, now_ms: int) -> float | None:
    summary = await redis.xpending(stream, group)
    oldest = summary.get("min") if isinstance(summary, dict) else None
    if not oldest:
        return None
    oldest_id = oldest.decode() if isinstance(oldest, bytes) else str(oldest)
    return max(0.0, (now_ms - int(oldest_id.split("-")[0])) / 1000)


async def collect_status(redis: Redis, settings: Settings) -> list[StreamStatus]:
    seconds, micros = await redis.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    out = []
    for view in settings.partition_views():
        out.extend(await _partition_status(redis, view, now_ms))
    return out


async def _partition_status(redis: Redis, settings: Settings, now_ms: int) -> list[StreamStatus]:
    out = []
    for name in settings.streams.all():
        length = int(await redis.xlen(name))
        groups = []
        for g in await group_info(redis, name):
            group = str(g["name"])
            groups.append(
                GroupStatus(
                    name=group,
                    consumers=int(g["consumers"]),
                    pending=int(g["pending"]),
                    lag=None if g.get("lag") is None else int(g["lag"]),
                    last_delivered_id=str(g["last-delivered-id"]),
                    entries_read=None if g.get("entries-read") is None else int(g["entries-read"]),
                    oldest_pending_age_s=await _oldest_pending_age(redis, name, group, now_ms),
                    per_second_last_minute=await throughput(redis, settings, group, now_ms),
                    consumer_list=await _consumers(redis, name, group),
                )
            )
        out.append(StreamStatus(name=name, length=length, groups=groups))
    return out


def status_as_dict(streams: list[StreamStatus]) -> dict[str, Any]:
    return {"streams": [asdict(s) for s in streams]}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def status_table(streams: list[StreamStatus], settings: Settings) -> Group:
    """The status as rich renderables: one table of groups, one of consumers, the DLQ size."""
    groups = Table(title=f"newsflow status ({settings.redis_display()})")
    for col in ("stream", "length", "group", "lag", "pending", "oldest pending", "per s (1 min)"):
        groups.add_column(col)
    consumers = Table(title="consumers")
    for col in ("group", "consumer", "pending", "idle"):
        consumers.add_column(col)
    for s in streams:
        if not s.groups:
            groups.add_row(s.name, str(s.length), "-", "", "", "", "")
        for g in s.groups:
            rate = "-" if g.per_second_last_minute is None else f"{g.per_second_last_minute:.1f}"
            groups.add_row(
                s.name,
                str(s.length),
                g.name,
                "?" if g.lag is None else str(g.lag),
                str(g.pending),
                _age(g.oldest_pending_age_s),
                rate,
            )
            for c in g.consumer_list:
                consumers.add_row(g.name, c.name, str(c.pending), _age(c.idle_s))
    dlqs = settings.partition_streams("dlq")
    size = sum(s.length for s in streams if s.name in dlqs)
    where = "" if len(dlqs) == 1 else f" (over {len(dlqs)} partitions)"
    footer = Text(f"DLQ size: {size}{where}")
    return Group(groups, consumers, footer)
