"""Pipeline status: per stream length, per group lag and pending, DLQ size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis

from newsflow.shared.redis_streams import group_info
from newsflow.shared.settings import Settings


@dataclass(slots=True)
class GroupStatus:
    name: str
    consumers: int
    pending: int
    lag: int | None
    last_delivered_id: str


@dataclass(slots=True)
class StreamStatus:
    name: str
    length: int
    groups: list[GroupStatus] = field(default_factory=list)


async def collect_status(redis: Redis, settings: Settings) -> list[StreamStatus]:
    out = []
    for name in settings.streams.all():
        length = int(await redis.xlen(name))
        groups = [
            GroupStatus(
                name=str(g["name"]),
                consumers=int(g["consumers"]),
                pending=int(g["pending"]),
                lag=None if g.get("lag") is None else int(g["lag"]),
                last_delivered_id=str(g["last-delivered-id"]),
            )
            for g in await group_info(redis, name)
        ]
        out.append(StreamStatus(name=name, length=length, groups=groups))
    return out


def status_as_dict(streams: list[StreamStatus]) -> dict[str, Any]:
    return {"streams": [asdict(s) for s in streams]}
