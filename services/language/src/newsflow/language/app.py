"""FastStream entrypoint of the language service:
``faststream run newsflow.language.app:create_app --factory``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream import FastStream

from newsflow.language.logic import LanguageIdentifier
from newsflow.shared.events import ArticleEvent
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings, load_settings
from newsflow.shared.stage import EventInput, Outcome, Routed, StageContext
from newsflow.shared.textrepair import repair


class LanguageStage(EventInput):
    service = "language"

    def __init__(self) -> None:
        self._identifier: LanguageIdentifier | None = None
        self._consumer = ""
        self._output = ""

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.unique

    async def start(self, ctx: StageContext) -> None:
        self._consumer = ctx.consumer
        self._output = ctx.settings.streams.language
        self._identifier = await asyncio.to_thread(LanguageIdentifier.from_settings, ctx.settings)

    def _identify_all(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        assert self._identifier is not None, "start() was not called"
        repaired = [(repair(event.text), repair(event.title)) for event in events]
        sections = self._identifier.identify_many(
            [
                (text, title, event.language_hint)
                for ((text, _), (title, _)), event in zip(repaired, events, strict=True)
            ]
        )
        outcomes: list[Outcome] = []
        for event, ((text, text_fixed), (title, title_fixed)), section in zip(
            events, repaired, sections, strict=True
        ):
            if text_fixed or title_fixed:
                update = {"text": text, "title": title, "text_repaired": True}
                event = event.model_copy(update=update)
            outcomes.append(
                Routed(self._output, event.traced("language", self._consumer, language=section))
            )
        return outcomes

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        return await asyncio.to_thread(self._identify_all, events)

    async def close(self) -> None:
        self._identifier = None


def create_app(settings: Settings | None = None) -> FastStream:
    return build_app(LanguageStage(), settings or load_settings())
