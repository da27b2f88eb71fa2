"""Test helpers: deadline-based waiting (never bare sleeps); compose variables."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from newsflow.shared.wire import decode_fields


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_for_len(redis: Redis, stream: str, n: int, timeout: float = 30.0) -> None:
    async def ready() -> bool:
        return int(await redis.xlen(stream)) >= n

    await wait_until(ready, timeout=timeout, what=f"{n} entries on {stream}")


async def entries_added(redis: Redis, stream: str) -> int:
    """How many entries were ever written to the stream (XINFO STREAM entries-added, Redis
    >= 7.0): unlike XLEN it does not fall when a consuming service trims what it has read."""
    if not await redis.exists(stream):
        return 0
    info = await redis.xinfo_stream(stream)
    return int(info["entries-added"])


async def wait_for_added(redis: Redis, stream: str, n: int, timeout: float = 30.0) -> None:
    async def ready() -> bool:
        return await entries_added(redis, stream) >= n

    await wait_until(ready, timeout=timeout, what=f"{n} entries written to {stream}")


async def entries(redis: Redis, stream: str) -> list[tuple[str, dict[str, str]]]:
    return [(eid.decode(), decode_fields(raw)) for eid, raw in await redis.xrange(stream)]


async def events(redis: Redis, stream: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(fields["event"]) for _, fields in await entries(redis, stream)]


_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """compose's ``${VAR:-default}`` substitution (what ``docker compose`` does with .env)."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1)) or m.group(2) or "", value)


def env_file(path: Path) -> dict[str, str]:
    """The variables of a compose --env-file (KEY=value lines; # comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """Status and body of a GET (blocking: call it through asyncio.to_thread); status 0 when
    nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""
