"""The race the cluster's spread index accepts, measured: two replicas deciding copies of the
same stories at the same moment, across time-slot boundaries.

``python -m newsflow.dedup.race --url redis://node:port --data news.jsonl`` (``make
bench-cluster`` runs it on its private cluster). Each story of the news file and a copy of it
with one word changed (a near duplicate, J ~ 0.99) are handed to two dedup replicas (two
indexes, each over its own cluster client and pinned connection, with WAIT as the service
runs), in chunks of ``--chunk`` stories; the second replica starts each chunk after a random
delay of up to one call's duration, so copies arrive on the two replicas within a batch of
each other. A pair both replicas call unique is a missed duplicate.

Run twice over the same stories, each in a fresh index: with the service's default slot (a
day: no boundary is crossed) and with one-second slots (a boundary every second, where a call
already on the new slot may read the old slot before the other replica's call writes there).
Prints JSON: pairs, missed, boundaries crossed, and the call duration p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from newsflow.dedup.app import index_from, params_from
from newsflow.dedup.minhash import Features, features_batch
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings


def copy_of(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 1:
        words[rng.randrange(len(words))] = "zeppelin"
    return " ".join(words)


async def race(
    url: str, texts: list[str], slot_seconds: int, *, chunk: int = 16, passes: int = 1
) -> dict[str, Any]:
    """``passes`` runs over ``texts``, each in a fresh index; the figures summed. ``missed``
    counts the pairs both replicas called unique; ``apart`` the same pairs decided one replica
    after the other (copies too short for one changed word to stay above the threshold): the
    race's share is the difference."""
    durations: list[float] = []
    slots: set[int] = set()
    missed = apart = 0
    for seed in range(passes):
        missed += await _one_pass(url, texts, slot_seconds, chunk, seed, durations, slots)
        apart += await _one_pass(url, texts, slot_seconds, chunk, seed, [], set(), apart=True)
    durations.sort()
    return {
        "slot_seconds": slot_seconds,
        "pairs": len(texts) * passes,
        "missed": missed,
        "missed_apart": apart,
        "boundaries": len(slots) - 1,
        "call_p50_ms": round(1000 * durations[len(durations) // 2], 2),
        "call_p99_ms": round(1000 * durations[int(len(durations) * 0.99)], 2),
    }


async def _one_pass(
    url: str,
    texts: list[str],
    slot_seconds: int,
    chunk: int,
    seed: int,
    durations: list[float],
    slots: set[int],
    *,
    apart: bool = False,
) -> int:
    rng = random.Random(seed)
    settings = Settings(
        redis_url=url,
        redis_cluster=True,
        key_prefix=f"race{uuid.uuid4().hex[:8]}:",
        dedup_window_seconds=slot_seconds * 7,
        dedup_window_slots=7,
    )
    params = params_from(settings)
    pairs: list[tuple[Features, Features]] = list(
        zip(
            features_batch([(f"a{i}", t, None) for i, t in enumerate(texts)], params),
            features_batch([(f"b{i}", copy_of(t, rng), None) for i, t in enumerate(texts)], params),
            strict=True,
        )
    )
    clients = [connect(url, cluster=True) for _ in range(2)]
    first, second = (index_from(settings, c) for c in clients)
    missed = 0

    async def timed(index: Any, items: list[tuple[str, Features]], delay: float) -> list[Any]:
        await asyncio.sleep(delay)
        began = time.perf_counter()
        slots.add(index.current_slot())
        decided = await index.check_and_insert(items)
        durations.append(time.perf_counter() - began)
        return list(decided)

    try:
        for start in range(0, len(pairs), chunk):
            part = pairs[start : start + chunk]
            ours = [(f"a{start + k}", p[0]) for k, p in enumerate(part)]
            theirs = [(f"b{start + k}", p[1]) for k, p in enumerate(part)]
            if apart:
                a = await timed(first, ours, 0.0)
                b = await timed(second, theirs, 0.0)
            else:
                lag = rng.uniform(0, statistics.median(durations)) if durations else 0.0
                a, b = await asyncio.gather(timed(first, ours, 0.0), timed(second, theirs, lag))
            missed += sum(
                x.status == "unique" and y.status == "unique" for x, y in zip(a, b, strict=True)
            )
    finally:
        for index in (first, second):
            await index.close()
        for client in clients:
            await client.aclose()
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="any node of the cluster")
    parser.add_argument("--data", type=Path, required=True, help="news JSONL (a 'text' field)")
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--passes", type=int, default=10, help="runs over the stories")
    args = parser.parse_args(argv)
    with args.data.open(encoding="utf-8") as file:
        texts = [
            json.loads(line)["text"] for _, line in zip(range(args.stories), file, strict=False)
        ]
    for slot_seconds in (Settings().dedup_window_seconds // Settings().dedup_window_slots, 1):
        result = asyncio.run(
            race(args.url, texts, slot_seconds, chunk=args.chunk, passes=args.passes)
        )
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
