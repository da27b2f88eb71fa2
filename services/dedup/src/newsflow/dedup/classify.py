"""The dedup stage's work on one batch: features, then the atomic index call, overlapped.

The index call waits on Redis (the Lua script runs in the Redis process, on the other core);
meanwhile the next chunk's features are computed. The request is sent first (the task gets
to run until it awaits the reply), then the features of the next chunk are computed while Redis
works. Chunks are decided in order, so an article still sees every earlier article of its batch.
Each chunk blocks the event loop only for its own feature computation (~0.4 ms per article).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from newsflow.dedup.index import Decision, DuplicateIndex
from newsflow.dedup.minhash import Features, MinHashParams, features_batch

Item = tuple[str, str, str | None]  # article id, text, url


async def classify(
    index: DuplicateIndex, items: Sequence[Item], params: MinHashParams, *, chunk: int = 16
) -> list[tuple[Features, Decision]]:
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    if not chunks:
        return []
    results: list[tuple[Features, Decision]] = []
    feats = features_batch(chunks[0], params)
    for k, part in enumerate(chunks):
        call = asyncio.create_task(  # noqa: RUF006 - awaited below, in this iteration
            index.check_and_insert(
                [(article_id, f) for (article_id, _, _), f in zip(part, feats, strict=True)]
            )
        )
        # Let the call send its request before the loop is busy with the next features.
        for _ in range(3):
            await asyncio.sleep(0)
        next_feats = features_batch(chunks[k + 1], params) if k + 1 < len(chunks) else []
        results.extend(zip(feats, await call, strict=True))
        feats = next_feats
    return results
