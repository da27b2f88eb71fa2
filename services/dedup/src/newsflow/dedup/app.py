"""FastStream entrypoint of the dedup service:
``faststream run newsflow.dedup.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import Sequence

from faststream import FastStream
from redis.asyncio import Redis

from newsflow.dedup.classify import classify
from newsflow.dedup.index import DuplicateIndex
from newsflow.dedup.logic import section
from newsflow.dedup.minhash import MinHashParams
from newsflow.shared.events import ArticleEvent, InputLimits
from newsflow.shared.outputs import OutputConnection
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings, load_settings
from newsflow.shared.stage import Outcome, Routed, StageContext
from newsflow.shared.wire import Entry, decode_raw_article


def params_from(settings: Settings) -> MinHashParams:
    return MinHashParams(
        num_perm=settings.dedup_num_perm,
        bands=settings.dedup_bands,
        rows=settings.dedup_rows,
        shingle_size=settings.dedup_shingle_size,
    )


def index_from(settings: Settings, redis: Redis) -> DuplicateIndex:
    """The shared index. On a cluster each time slot of the window has its own hash tag (the
    index is spread over the primaries) and each call goes over the current slot's own
    connection, followed by WAIT like the stages' outputs, so a failover of that primary does
    not forget the articles of the last batches; WAIT asked for on one node works the same."""
    prefix = settings.shared_key_prefix("dedup")
    pinned = settings.redis_cluster or settings.wait_replicas > 0
    index = DuplicateIndex(
        redis,
        key_prefix=prefix,
        window_seconds=settings.dedup_window_seconds,
        slots=settings.dedup_window_slots,
        threshold=settings.dedup_threshold,
        bands=settings.dedup_bands,
        num_perm=settings.dedup_num_perm,
        spread=settings.redis_cluster,
    )
    if pinned:
        index.pin(OutputConnection(settings, redis, index.keys()[0]))
    return index


class DedupStage:
    service = "dedup"

    def __init__(self) -> None:
        self._limits = InputLimits()
        self._index: DuplicateIndex | None = None
        self._params = MinHashParams()
        self._consumer = ""
        self._unique = ""
        self._duplicates = ""

    def in_flight(self, settings: Settings) -> int:
        return 1  # the features are computed on this process's one core

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.raw

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_raw_article(entry.fields, self._limits)

    async def start(self, ctx: StageContext) -> None:
        self._limits = ctx.limits
        self._consumer = ctx.consumer
        self._unique = ctx.settings.streams.unique
        self._duplicates = ctx.settings.streams.duplicates
        self._params = params_from(ctx.settings)
        self._index = index_from(ctx.settings, ctx.redis)

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        assert self._index is not None, "start() was not called"
        decided = await classify(self._index, [(e.id, e.text, e.url) for e in events], self._params)
        outcomes: list[Outcome] = []
        for event, (feat, decision) in zip(events, decided, strict=True):
            dedup = section(decision, feat.fingerprint_hex)
            stream = self._unique if dedup.status == "unique" else self._duplicates
            outcomes.append(Routed(stream, event.traced("dedup", self._consumer, dedup=dedup)))
        return outcomes

    async def close(self) -> None:
        if self._index is not None:
            await self._index.close()
        self._index = None


def create_app(settings: Settings | None = None) -> FastStream:
    return build_app(DedupStage(), settings or load_settings())
