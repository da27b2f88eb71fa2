"""FastStream entrypoint of the dedup service:
``faststream run newsflow.dedup.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import Sequence

from faststream import FastStream

from newsflow.dedup.logic import decide, fingerprint
from newsflow.dedup.store import FingerprintStore
from newsflow.shared.events import ArticleEvent, InputLimits
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings, load_settings
from newsflow.shared.stage import Outcome, Routed, StageContext
from newsflow.shared.wire import Entry, decode_raw_article


class DedupStage:
    service = "dedup"

    def __init__(self) -> None:
        self._limits = InputLimits()
        self._store: FingerprintStore | None = None
        self._consumer = ""
        self._unique = ""
        self._duplicates = ""

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.raw

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_raw_article(entry.fields, self._limits)

    async def start(self, ctx: StageContext) -> None:
        self._limits = ctx.limits
        self._consumer = ctx.consumer
        self._unique = ctx.settings.streams.unique
        self._duplicates = ctx.settings.streams.duplicates
        self._store = FingerprintStore(
            ctx.redis,
            key_prefix=ctx.settings.key("dedup", "fp", ""),
            window_seconds=ctx.settings.dedup_window_seconds,
        )

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        assert self._store is not None, "start() was not called"
        fps = [fingerprint(event.text) for event in events]
        owners = await self._store.claim_many(
            [(fp, event.id) for fp, event in zip(fps, events, strict=True)]
        )
        outcomes: list[Outcome] = []
        for event, fp, owner in zip(events, fps, owners, strict=True):
            section = decide(event.id, fp, owner)
            stream = self._unique if section.status == "unique" else self._duplicates
            outcomes.append(Routed(stream, event.traced("dedup", self._consumer, dedup=section)))
        return outcomes

    async def close(self) -> None:
        self._store = None


def create_app(settings: Settings | None = None) -> FastStream:
    return build_app(DedupStage(), settings or load_settings())
