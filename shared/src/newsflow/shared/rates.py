"""Per-minute counters of handled entries, kept in Redis by every replica of a stage, so that
`newsflow status` can show a group's throughput over the last minute without sampling."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from newsflow.shared.settings import Settings

# A minute's counter lives long enough to be read as "the previous minute".
COUNTER_TTL_S = 180


def _key(settings: Settings, group: str, minute: int) -> str:
    return settings.key("rate", group, str(minute))


def count_handled(pipe: Pipeline, settings: Settings, group: str, n: int, now_s: float) -> None:
    """Add ``n`` handled entries to the current minute (inside the stage's transaction)."""
    key = _key(settings, group, int(now_s // 60))
    pipe.incrby(key, n)
    pipe.expire(key, COUNTER_TTL_S)


async def throughput(redis: Redis, settings: Settings, group: str, now_ms: int) -> float:
    """Entries per second over the last 60 s: the current minute's count plus the share of the
    previous minute that falls inside the window."""
    minute, into = divmod(now_ms / 1000, 60)
    current, previous = await redis.mget(
        _key(settings, group, int(minute)), _key(settings, group, int(minute) - 1)
    )
    window = int(current or 0) + int(previous or 0) * (1 - into / 60)
    return window / 60
