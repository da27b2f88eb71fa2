"""The subscriber SDK beside raw redis-py: ``make bench-subscriber``.

In one run, on a private ``redis-server``, each reader takes the same backlog of enriched
events (``--events``, real-sized: 2 KB of text each) with a group of its own, in rounds
(``--rounds``, the median kept, since this VM's speed drifts):

1. raw redis-py: ``XREADGROUP COUNT 64``, each entry's event validated (``ArticleEvent``), one
   ``XACK`` per read: the least a correct consumer does, and no redelivery handling;
2. ``Subscriber``, one event at a time (``async for``), seen ids on (the default);
3. ``Subscriber`` without seen ids (``seen_ttl_s=0``);
4. ``Subscriber.batches(64)``, seen ids on.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from newsflow.client import Subscriber
from newsflow.shared.events import ArticleEvent, DedupSection
from newsflow.shared.local_redis import LocalRedis
from newsflow.shared.redis_streams import connect, ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.wire import decode_event, decode_fields, encode_event


async def _backlog(redis: Redis, stream: str, events: int) -> None:
    text = "Ein Satz aus einem Nachrichtenartikel, wie ihn die Pipeline liest. " * 30
    for start in range(0, events, 500):
        pipe = redis.pipeline(transaction=False)
        for i in range(start, min(start + 500, events)):
            event = ArticleEvent(
                id=f"e{i}",
                text=text,
                dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
            )
            pipe.xadd(stream, encode_event(event))  # type: ignore[arg-type]
        await pipe.execute()


async def raw(redis: Redis, settings: Settings, events: int) -> None:
    stream, group = settings.streams.enriched, f"raw-{uuid.uuid4().hex[:6]}"
    await ensure_group(redis, stream, group)
    done = 0
    while done < events:
        reply: Any = await redis.xreadgroup(group, "c", {stream: ">"}, count=64, block=1000)
        for _, entries in reply:
            for _entry_id, fields in entries:
                decode_event(decode_fields(fields))
            await redis.xack(stream, group, *[i for i, _ in entries])
            done += len(entries)


def _subscriber(settings: Settings, **options: object) -> Subscriber:
    group = f"sdk-{uuid.uuid4().hex[:6]}"
    return Subscriber.connect(settings=settings, group=group, count=64, **options)  # type: ignore[arg-type]


async def one_by_one(settings: Settings, events: int, **options: object) -> None:
    done = 0
    async with _subscriber(settings, **options) as sub:
        async for _event in sub:
            done += 1
            if done == events:
                break


async def batches(settings: Settings, events: int) -> None:
    done = 0
    async with _subscriber(settings) as sub:
        async for batch in sub.batches(64):
            done += len(batch)
            if done >= events:
                break


async def _timed(run: Callable[[], Awaitable[None]], events: int) -> float:
    started = time.perf_counter()
    await run()
    return events / (time.perf_counter() - started)


async def measure(settings: Settings, events: int, rounds: int) -> dict[str, float]:
    redis = connect(settings.redis_dsn())
    try:
        await _backlog(redis, settings.streams.enriched, events)
        runs: dict[str, list[float]] = {}
        for _ in range(rounds):
            readers: dict[str, Callable[[], Awaitable[None]]] = {
                "raw redis-py XREADGROUP": lambda: raw(redis, settings, events),
                "Subscriber, async for": lambda: one_by_one(settings, events),
                "Subscriber, no seen ids": lambda: one_by_one(settings, events, seen_ttl_s=0),
                "Subscriber.batches(64)": lambda: batches(settings, events),
            }
            for label, run in readers.items():
                runs.setdefault(label, []).append(await _timed(run, events))
        return {label: statistics.median(rates) for label, rates in runs.items()}
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    local = LocalRedis().start()
    try:
        tag = uuid.uuid4().hex[:8]
        settings = Settings(
            redis_url=local.url, stream_prefix=f"bs{tag}.", key_prefix=f"nfbs{tag}:"
        )
        rates = asyncio.run(measure(settings, args.events, args.rounds))
    finally:
        local.stop()
    base = rates["raw redis-py XREADGROUP"]
    print(f"subscriber bench: {args.events:,} events, median of {args.rounds}, one process")
    for label, rate in rates.items():
        print(f"  {label:<26} {rate:>9,.0f} events/s  {rate / base:.2f}x raw")
    return 0


if __name__ == "__main__":
    sys.exit(main())
