"""A pool of NER worker processes: each loads the pipelines once and runs extract_batch.

spaCy holds the GIL, so a thread cannot use a second core; processes can. A read batch is split
into one contiguous chunk per worker (balanced by characters) and the chunks run in parallel.
Workers exit on their own when the service process dies (even by SIGKILL).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry
from newsflow.shared.events import EntitiesSection
from newsflow.shared.heap import freeze_startup_heap

# Worker-process state, set by _init_worker.
_extractor: EntityExtractor | None = None
_loaded: dict[str, str] = {}
_barrier: Any = None


def _watch_parent(parent: int) -> None:
    """Exit when the parent is gone: a killed service must not leave workers behind."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        threading.Event().wait(1.0)


def _init_worker(
    models: Mapping[str, Sequence[str]],
    fallback: Sequence[str],
    max_length: int,
    batch_size: int,
    barrier: Any,
    parent: int,
) -> None:
    global _extractor, _loaded, _barrier
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    registry = ModelRegistry(models, max_length=max_length, fallback=fallback)
    _loaded = registry.load()
    _extractor = EntityExtractor(registry, batch_size=batch_size)
    _barrier = barrier
    freeze_startup_heap()  # the pipelines: ~0.5 M objects a full collection would walk


def _ready(timeout: float) -> tuple[int, dict[str, str]]:
    """Runs once in every worker at start: the barrier makes each worker take exactly one."""
    _barrier.wait(timeout)
    return os.getpid(), _loaded


def _extract(documents: Sequence[Document]) -> list[EntitiesSection]:
    assert _extractor is not None, "worker not initialised"
    return _extractor.extract_batch(documents)


def split_balanced(
    documents: Sequence[Document], parts: int, costs: Sequence[int] | None = None
) -> list[Sequence[Document]]:
    """Contiguous chunks of about equal cost (order kept), at most ``parts``. The cost of a
    document defaults to its length."""
    if parts <= 1 or len(documents) <= 1:
        return [documents] if documents else []
    sizes = (
        list(costs) if costs is not None else [len(d.text) + len(d.title) + 1 for d in documents]
    )
    target = sum(sizes) / parts
    chunks: list[Sequence[Document]] = []
    start = 0
    acc = 0
    for i, size in enumerate(sizes):
        # Cut before this document when that lands nearer the target than taking it.
        if len(chunks) < parts - 1 and acc and acc + size - target > target - acc:
            chunks.append(documents[start:i])
            start, acc = i, 0
        acc += size
    chunks.append(documents[start:])
    return chunks


class NerPool:
    def __init__(
        self,
        models: Mapping[str, Sequence[str]],
        *,
        fallback: Sequence[str],
        max_length: int,
        batch_size: int,
        workers: int,
    ) -> None:
        self.workers = self.worker_count(workers)
        self._args = (
            {k: list(v) for k, v in models.items()},
            list(fallback),
            max_length,
            batch_size,
        )
        self._executor: ProcessPoolExecutor | None = None
        self._languages: frozenset[str] = frozenset()

    @staticmethod
    def worker_count(workers: int) -> int:
        """The pool size for the ``entity_workers`` setting (0: one per CPU core)."""
        return workers or os.cpu_count() or 1

    async def start(self, timeout: float = 600.0) -> dict[str, str]:
        """Start every worker and wait until each has loaded its pipelines."""
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(self.workers)
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(*self._args, barrier, os.getpid()),
        )
        loop = asyncio.get_running_loop()
        ready = await asyncio.gather(
            *(loop.run_in_executor(self._executor, _ready, timeout) for _ in range(self.workers))
        )
        pids = {pid for pid, _ in ready}
        if len(pids) != self.workers:
            raise RuntimeError(f"expected {self.workers} NER workers, {len(pids)} started")
        loaded = ready[0][1]
        self._languages = frozenset(loaded)
        return loaded

    def cost(self, document: Document) -> int:
        """Rough NER cost: the text length when a pipeline will read it, else next to nothing
        (`no_model` and `skipped` documents only pass through)."""
        code = (document.language or "und").lower()
        runs = "xx" in self._languages or (
            code in self._languages or code.split("-", 1)[0] in self._languages
        )
        return len(document.text) + len(document.title) + 1 if runs else 1

    async def extract(self, documents: Sequence[Document]) -> list[EntitiesSection]:
        assert self._executor is not None, "start() was not called"
        loop = asyncio.get_running_loop()
        chunks = split_balanced(documents, self.workers, [self.cost(d) for d in documents])
        parts = await asyncio.gather(
            *(loop.run_in_executor(self._executor, _extract, chunk) for chunk in chunks)
        )
        return [section for part in parts for section in part]

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
