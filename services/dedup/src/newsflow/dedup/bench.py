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

from newsflow.dedup.classify import classify
from newsflow.dedup.minhash import Features, MinHashParams, keyed_features
from newsflow.dedup.scratch import scratch_index


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


async def run(path: Path, repeat: int, redis_url: str | None, as_json: bool = False) -> None:
    texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    # Later passes re-send the articles with a marker: near duplicates of the first pass.
    docs = [(f"bench-{r}-{i}", f"{t} {r}") for r in range(repeat) for i, t in enumerate(texts)]
    params = MinHashParams()
    avg = sum(len(t) for _, t in docs) / len(docs)
    say = (lambda *a, **k: None) if as_json else print
    say(f"dedup bench: {len(docs)} articles from {path.name}, average {avg:.0f} chars, 1 core "
          "for the stage (Redis on the other); index with 7 earlier slots populated")  # fmt: skip

    t0 = time.perf_counter()
    for _, text in docs:
        mh = RMinHash(num_perm=params.num_perm, seed=params.seed)
        mh.update(text.split())
        mh.digest()
    bare = _rate(len(docs), time.perf_counter() - t0)

    def batched(items: list[tuple[str, str]]) -> list[list[tuple[str, Features]]]:
        return [keyed_features(items[s : s + 64], params) for s in range(0, len(items), 64)]

    t0 = time.perf_counter()
    feats = batched(docs)
    feat_rate = _rate(len(docs), time.perf_counter() - t0)

    async with scratch_index(redis_url, params) as (client, index):
        # Steady state: the window's earlier slots already hold other articles (here the same
        # texts with their words reversed: unrelated shingles), so every lookup reads all slots.
        now = time.time()
        for back in range(1, 8):
            old = [(f"old-{back}-{i}", " ".join(reversed(t.split()))) for i, t in enumerate(texts)]
            for batch in batched(old):
                await index.check_and_insert(batch, now=now - back * index.slot_seconds)
        unique = total = 0
        seconds = 0.0
        for r in range(repeat):
            passed = docs[r * len(texts) : (r + 1) * len(texts)]
            t0 = time.perf_counter()
            for start in range(0, len(passed), 64):
                items = [(i, t, None) for i, t in passed[start : start + 64]]
                decided = await classify(index, items, params)
                unique += sum(1 for _, d in decided if d.status == "unique") if r == 0 else 0
            seconds += time.perf_counter() - t0
            if r == 0:  # memory of the first pass: every article is new and remembered
                for key in index.slot_keys(int(now // index.slot_seconds)):
                    total += int(await client.memory_usage(key, samples=0) or 0)
        stage = _rate(len(docs), seconds)

        t0 = time.perf_counter()
        for batch in feats:
            await index.check_and_insert(batch, now=now)
        replay = _rate(len(docs), time.perf_counter() - t0)

        # New articles only (a month later: the earlier ones are outside the window).
        fresh = batched([(f"new-{i}", t) for i, t in docs])
        t0 = time.perf_counter()
        for batch in fresh:
            await index.check_and_insert(batch, now=now + 86400 * 30)
        new_calls = _rate(len(docs), time.perf_counter() - t0)

    say(f"  bare rensa signature (whitespace tokens)   {bare:>9,.0f} articles/s")
    say(f"  newsflow features (normalise+shingle+sign) {feat_rate:>9,.0f} articles/s")
    say(f"  dedup stage logic (features + Redis index) {stage:>9,.0f} articles/s")
    say(f"  index call alone, new, empty window        {new_calls:>9,.0f} articles/s")
    say(f"  index call alone, replayed articles        {replay:>9,.0f} articles/s")
    say(f"  Redis bytes per remembered article         {total / max(1, unique):>9,.0f} "
          f"({unique} new articles, {total:,} bytes)")  # fmt: skip
    verdict = "met" if stage >= 1500 else "NOT met"
    say(f"ratios: stage/bare rensa {stage / bare:.2f}, features/bare {feat_rate / bare:.2f}; "
          f"goal >= 1,500 articles/s per core: {verdict}")  # fmt: skip

    if as_json:
        figures = {"articles": len(docs), "bare_rensa": bare, "features": feat_rate}
        figures |= {"stage_logic": stage, "index_new": new_calls, "index_replay": replay}
        print(json.dumps(figures | {"bytes_per_article": total / max(1, unique)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the articles")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    data: Path = args.data
    path = data / "news" / "10kgnad_de.jsonl" if data.is_dir() else data
    asyncio.run(run(path, args.repeat, args.redis_url, args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
