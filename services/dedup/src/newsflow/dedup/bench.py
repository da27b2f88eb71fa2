"""Dedup throughput and memory: ``make bench DATA=../shared/eval``.

Side by side, in one process, on the same real articles: bare rensa (MinHash of whitespace
tokens), newsflow's feature extraction (boilerplate, repair, canonical form, shingles,
signature, bands), and the whole stage logic (features + the atomic Redis index call, in
batches of 64, on a private redis-server), then Redis bytes per remembered article.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from rensa import RMinHash

from newsflow.dedup.index import DuplicateIndex
from newsflow.dedup.minhash import MinHashParams, features
from newsflow.shared.redis_streams import connect


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


async def run(path: Path, repeat: int, redis_url: str | None) -> None:
    texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    docs = [(f"bench-{r}-{i}", t) for r in range(repeat) for i, t in enumerate(texts)]
    # Each repetition gets a distinct marker so copies are not all exact duplicates.
    docs = [(i, f"{t} {i}") for i, t in docs]
    params = MinHashParams()
    avg = sum(len(t) for _, t in docs) / len(docs)
    print(f"dedup bench: {len(docs)} articles from {path.name}, average {avg:.0f} chars, 1 core")

    t0 = time.perf_counter()
    for _, text in docs:
        mh = RMinHash(num_perm=params.num_perm, seed=params.seed)
        mh.update(text.split())
        mh.digest()
    bare = _rate(len(docs), time.perf_counter() - t0)

    t0 = time.perf_counter()
    feats = [(i, features(i, t, None, params)) for i, t in docs]
    feat_rate = _rate(len(docs), time.perf_counter() - t0)

    server = None
    if redis_url is None:
        from newsflow.cli.local_redis import LocalRedis

        server = LocalRedis().start()
        redis_url = server.url
    client = connect(redis_url)
    prefix = f"newsflow-bench:{int(time.time())}:"
    index = DuplicateIndex(
        client,
        key_prefix=prefix,
        window_seconds=7 * 86400,
        slots=7,
        threshold=0.8,
        bands=params.bands,
        num_perm=params.num_perm,
    )
    try:
        t0 = time.perf_counter()
        for start in range(0, len(docs), 64):
            batch = [(i, features(i, t, None, params)) for i, t in docs[start : start + 64]]
            await index.check_and_insert(batch, now=1_000_000.0)
        stage = _rate(len(docs), time.perf_counter() - t0)

        t0 = time.perf_counter()
        for start in range(0, len(feats), 64):
            await index.check_and_insert(feats[start : start + 64], now=1_000_000.0)
        replay = _rate(len(feats), time.perf_counter() - t0)

        # New articles only (a month later: the earlier ones are outside the window).
        fresh = [(f"new-{i}", features(f"new-{i}", t, None, params)) for i, t in docs]
        t0 = time.perf_counter()
        for start in range(0, len(fresh), 64):
            await index.check_and_insert(fresh[start : start + 64], now=1_000_000.0 + 86400 * 30)
        new_calls = _rate(len(fresh), time.perf_counter() - t0)

        remembered = 0
        total = 0
        for key in index.slot_keys(int(1_000_000.0 // index.slot_seconds)):
            total += int(await client.memory_usage(key, samples=0) or 0)
            if key.endswith(":rec"):
                remembered = int(await client.hlen(key))
    finally:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
        if server is not None:
            server.stop()

    print(f"  bare rensa signature (whitespace tokens)   {bare:>9,.0f} articles/s")
    print(f"  newsflow features (normalise+shingle+sign) {feat_rate:>9,.0f} articles/s")
    print(f"  dedup stage logic (features + Redis index) {stage:>9,.0f} articles/s")
    print(f"  index call alone, new articles (Redis side){new_calls:>9,.0f} articles/s")
    print(f"  index call alone, replayed articles        {replay:>9,.0f} articles/s")
    print(f"  Redis bytes per remembered article         {total / max(1, remembered):>9,.0f} "
          f"({remembered} articles, {total:,} bytes)")  # fmt: skip
    verdict = "met" if stage >= 1500 else "NOT met"
    print(f"ratios: stage/bare rensa {stage / bare:.2f}, features/bare {feat_rate / bare:.2f}; "
          f"goal >= 1,500 articles/s per core: {verdict}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the articles")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)
    data: Path = args.data
    path = data / "news" / "10kgnad_de.jsonl" if data.is_dir() else data
    asyncio.run(run(path, args.repeat, args.redis_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
