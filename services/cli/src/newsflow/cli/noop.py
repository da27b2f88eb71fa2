"""A stage that does nothing but pass events on: the runtime's own ceiling, for ``make bench``.

``faststream run newsflow.cli.noop:create_app --factory`` reads ``articles.unique`` and writes
each event unchanged to ``articles.language``, through the same runtime as the real stages
(batch reads, decoding, MULTI/EXEC of XADDs and XACK, reclaimer, health server).
"""

from __future__ import annotations

from collections.abc import Sequence

from faststream import FastStream

from newsflow.shared.events import ArticleEvent
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings, load_settings
from newsflow.shared.stage import EventInput, Outcome, Routed, StageContext


class NoopStage(EventInput):
    service = "noop"

    def __init__(self) -> None:
        self._output = ""

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.unique

    async def start(self, ctx: StageContext) -> None:
        self._output = ctx.settings.streams.language

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        return [Routed(self._output, event) for event in events]

    async def close(self) -> None:
        return None


def create_app(settings: Settings | None = None) -> FastStream:
    return build_app(NoopStage(), settings or load_settings())
