"""FastStream entrypoint of the entity service:
``faststream run newsflow.entity.app:create_app --factory``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog
from faststream import FastStream

from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry
from newsflow.shared.events import ArticleEvent
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings, load_settings
from newsflow.shared.stage import Outcome, Routed, StageContext
from newsflow.shared.wire import Entry, decode_event


class EntityStage:
    service = "entity"

    def __init__(self) -> None:
        self._extractor: EntityExtractor | None = None
        # spaCy work runs here, never on the event loop; one thread keeps model use serial.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner")
        self._consumer = ""
        self._output = ""

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.language

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_event(entry.fields)

    async def start(self, ctx: StageContext) -> None:
        self._consumer = ctx.consumer
        self._output = ctx.settings.streams.enriched
        registry = ModelRegistry(ctx.settings.entity_models, max_length=ctx.settings.max_text_bytes)
        loop = asyncio.get_running_loop()
        loaded = await loop.run_in_executor(self._executor, registry.load)
        structlog.get_logger("newsflow.entity").info("models loaded", models=loaded)
        self._extractor = EntityExtractor(registry, batch_size=ctx.settings.batch_size)

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        assert self._extractor is not None, "start() was not called"
        documents = [
            Document(e.language.code if e.language else None, e.title, e.text) for e in events
        ]
        loop = asyncio.get_running_loop()
        sections = await loop.run_in_executor(
            self._executor, self._extractor.extract_batch, documents
        )
        return [
            Routed(self._output, event.traced("entity", self._consumer, entities=section))
            for event, section in zip(events, sections, strict=True)
        ]

    async def close(self) -> None:
        self._extractor = None
        self._executor.shutdown(wait=True, cancel_futures=True)


def create_app(settings: Settings | None = None) -> FastStream:
    return build_app(EntityStage(), settings or load_settings())
