"""Small Redis Streams helpers used by the stage runtime and the CLI."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError


def connect(url: str) -> Redis:
    """A client for newsflow's own commands (bytes in, bytes out)."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)


async def ensure_group(client: Redis, stream: str, group: str) -> bool:
    """Create ``group`` on ``stream`` starting at ``0`` (so a backlog is processed).

    Returns True when the group was created, False when it already existed. The stream is
    created if missing (MKSTREAM).
    """
    try:
        await client.xgroup_create(name=stream, groupname=group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        return False
    return True


async def group_info(client: Redis, stream: str) -> list[dict[str, Any]]:
    """XINFO GROUPS as plain dicts with str keys and values (empty when the stream is missing)."""
    try:
        groups = await client.xinfo_groups(stream)
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return []
        raise
    out = []
    for g in groups:
        out.append(
            {
                (k.decode() if isinstance(k, bytes) else str(k)): (
                    v.decode() if isinstance(v, bytes) else v
                )
                for k, v in g.items()
            }
        )
    return out
