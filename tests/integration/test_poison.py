"""A poison message through the real service runtime (build_app): it reaches the DLQ after
exactly max_attempts deliveries, and the stream keeps flowing meanwhile."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from faststream import TestApp
from redis.asyncio import Redis

from newsflow.shared.events import ArticleEvent
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings
from newsflow.shared.stage import Outcome, Routed, StageContext
from newsflow.shared.wire import Entry, decode_raw_article, encode_article
from tests.conftest import SettingsFactory
from tests.helpers import entries, events, wait_for_len, wait_until


class PoisonedStage:
    service = "poisoned"

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.raw

    def in_flight(self, settings: Settings) -> int:
        return 1

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_raw_article(entry.fields, self.ctx.limits)

    async def start(self, ctx: StageContext) -> None:
        self.ctx = ctx

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        if len(events) == 1:
            self.deliveries[events[0].id] += 1
        if any(e.title == "poison" for e in events):
            raise RuntimeError("this article always breaks the model")
        return [Routed(self.ctx.settings.streams.unique, e) for e in events]

    async def close(self) -> None:
        pass


async def test_poison_goes_to_dlq_after_exactly_n_attempts(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        reclaim_idle_ms=300, reclaim_interval_ms=50, max_attempts=3, batch_size=8
    )
    stage = PoisonedStage()
    raw = settings.streams.raw
    async with TestApp(build_app(stage, settings)):
        for i in range(10):
            title = "poison" if i == 3 else "fine"
            await redis.xadd(raw, encode_article({"id": f"a{i}", "title": title, "text": "t"}))
        await wait_for_len(redis, settings.streams.unique, 9)
        # The stream keeps flowing while the poison is being retried.
        await redis.xadd(raw, encode_article({"id": "later", "text": "after the poison"}))
        await wait_for_len(redis, settings.streams.unique, 10)
        await wait_for_len(redis, settings.streams.dlq, 1, timeout=20)

        async def drained() -> bool:
            return int((await redis.xpending(raw, settings.group("poisoned")))["pending"]) == 0

        await wait_until(drained, timeout=10, what="the poison acknowledged")
    assert stage.deliveries["a3"] == 3
    (letter,) = [json.loads(f["event"]) for _, f in await entries(redis, settings.streams.dlq)]
    assert letter["attempts"] == 3 and letter["article_id"] == "a3"
    assert letter["error_type"] == "RuntimeError"
    assert "always breaks the model" in letter["reason"]
    assert letter["original_stream"] == raw and letter["service"] == "poisoned"
    out = [e["id"] for e in await events(redis, settings.streams.unique)]
    assert sorted(out) == sorted([f"a{i}" for i in range(10) if i != 3] + ["later"])
