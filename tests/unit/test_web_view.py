"""The live page's pure part: highlighted segments, article cards, groups summed over
partitions and the live rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsflow.cli.status import GroupStatus, StreamStatus
from newsflow.cli.web.view import GroupRow, RateWindow, article_card, highlight, summarise
from newsflow.shared.events import (
    ArticleEvent,
    DedupSection,
    EntitiesSection,
    EntityItem,
    EntityMention,
    LanguageSection,
    StageTrace,
)
from newsflow.shared.settings import Settings

TEXT = "Mayor Clara Duvall opened the tram line in Port Elwin on Saturday."


def _item(text: str, label: str, value: str = TEXT, **kw: object) -> EntityItem:
    start = value.index(text)
    return EntityItem(text=text, label=label, start=start, end=start + len(text), **kw)  # type: ignore[arg-type]


def test_highlight_splits_text_into_plain_and_entity_segments() -> None:
    items = [_item("Port Elwin", "LOC", mention=1), _item("Clara Duvall", "PER", mention=0)]
    segments, cut = highlight(TEXT, items, 10_000)
    assert not cut
    assert "".join(s["t"] for s in segments) == TEXT, "nothing lost or repeated"
    marked = [(s["t"], s["label"], s.get("mention")) for s in segments if "label" in s]
    assert marked == [("Clara Duvall", "PER", 0), ("Port Elwin", "LOC", 1)]


def test_highlight_never_marks_a_wrong_place() -> None:
    stale = EntityItem(text="Clara Duvall", label="PER", start=0, end=12)  # offsets off by 6
    overlap = EntityItem(text="Duvall opened", label="ORG", start=12, end=25)
    inverted = EntityItem(text="", label="LOC", start=30, end=30)
    good = _item("Clara Duvall", "PER")
    segments, _ = highlight(TEXT, [stale, good, overlap, inverted], 10_000)
    assert [s["t"] for s in segments if "label" in s] == ["Clara Duvall"]
    assert "".join(s["t"] for s in segments) == TEXT


def test_highlight_cuts_long_text_and_drops_spans_past_the_cut() -> None:
    items = [_item("Clara Duvall", "PER"), _item("Port Elwin", "LOC")]
    segments, cut = highlight(TEXT, items, 30)
    assert cut
    assert "".join(s["t"] for s in segments) == TEXT[:30]
    assert [s["t"] for s in segments if "label" in s] == ["Clara Duvall"]


def _event(**sections: object) -> ArticleEvent:
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    title = "Port Elwin launches night trams"
    return ArticleEvent(
        id="a-1",
        title=title,
        text=TEXT,
        url="https://example.org/a",
        source="Elwin Herald",
        dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f", cluster_id="a-1"),
        language=LanguageSection(code="en", name="English", confidence=0.98765, script="Latn"),
        entities=EntitiesSection(
            status="ok",
            model="en_core_web_sm@3.8.0",
            items=[
                _item("Port Elwin", "LOC", title, field="title"),
                _item("Port Elwin", "LOC"),
                _item("Clara Duvall", "PER"),
            ],
            mentions=[
                EntityMention(
                    name="Port Elwin", label="LOC", count=2, field="title", start=0, salience=0.9
                ),
            ],
        ),
        trace={
            "dedup": StageTrace(at=at, consumer="d"),
            "entity": StageTrace(at=at + timedelta(seconds=1.25), consumer="e"),
        },
        **sections,  # type: ignore[arg-type]
    )


def test_card_carries_language_verdict_entities_and_time_through_the_stages() -> None:
    card = article_card(_event(), "1-0", "articles.enriched")
    assert card["id"] == "a-1" and card["entry_id"] == "1-0"
    assert [s["t"] for s in card["title"] if "label" in s] == ["Port Elwin"]
    assert [s["label"] for s in card["text"] if "label" in s] == ["PER", "LOC"]
    assert card["language"] == {
        "code": "en", "name": "English", "confidence": 0.988, "other_segments": 0,
    }  # fmt: skip
    assert card["dedup"]["status"] == "unique" and card["dedup"]["cluster_id"] == "a-1"
    assert card["entities"]["model"] == "en_core_web_sm@3.8.0"
    assert card["entities"]["mentions"][0]["name"] == "Port Elwin"
    assert card["pipeline_s"] == 1.25


def test_card_of_a_duplicate_has_no_language_or_entities() -> None:
    dup = ArticleEvent(
        id="a-2",
        text=TEXT,
        dedup=DedupSection(
            status="near_duplicate",
            duplicate_of="a-1",
            similarity=0.9,
            fingerprint="f",
            cluster_id="a-1",
            method="minhash",
        ),
    )
    card = article_card(dup, "2-0", "articles.duplicates")
    assert card["language"] is None and card["entities"] is None and card["pipeline_s"] is None
    assert card["dedup"]["cluster_id"] == "a-1" and card["dedup"]["method"] == "minhash"
    assert card["text"] == [{"t": TEXT}]


def _group(
    name: str, *, pending: int, lag: int | None, read: int | None, rate: float
) -> GroupStatus:
    return GroupStatus(name=name, consumers=1, pending=pending, lag=lag, last_delivered_id="1-0",
                       entries_read=read, per_second_last_minute=rate)  # fmt: skip


def test_summarise_sums_partitions_under_logical_names() -> None:
    settings = Settings(partitions=2, stream_prefix="x.")
    p0, p1 = settings.partition_views()
    dedup0, dedup1 = p0.group("dedup"), p1.group("dedup")
    streams = [
        StreamStatus(p0.streams.raw, 3, [_group(dedup0, pending=2, lag=1, read=10, rate=1.0)]),
        StreamStatus(p1.streams.raw, 4, [_group(dedup1, pending=1, lag=5, read=20, rate=2.0)]),
        StreamStatus(
            p0.streams.enriched, 7, [_group("my-app", pending=0, lag=None, read=7, rate=0)]
        ),
        StreamStatus(p1.streams.enriched, 8, [_group("my-app", pending=3, lag=2, read=8, rate=0)]),
        StreamStatus(p0.streams.dlq, 1, []),
        StreamStatus(p1.streams.dlq, 2, []),
    ]
    lengths, rows = summarise(streams, settings)
    assert lengths["raw"] == 7 and lengths["enriched"] == 15 and lengths["dlq"] == 3
    dedup, app = rows
    assert (dedup.stream, dedup.group, dedup.stage) == ("raw", "x.newsflow.dedup", "dedup")
    assert (dedup.pending, dedup.lag, dedup.consumers, dedup.processed) == (3, 6, 2, 27)
    assert dedup.per_second_last_minute == 3.0
    assert (app.stream, app.group, app.stage) == ("enriched", "my-app", None)
    assert app.lag is None, "unknown on one partition: unknown in sum"
    assert app.per_second_last_minute is None, "subscribers keep no per-minute counters"
    assert app.processed == 7 + 5


def test_rate_window_rates_from_processed_counts_and_restarts_on_a_new_group() -> None:
    window = RateWindow(window_s=10.0)

    def row(processed: int | None) -> GroupRow:
        return GroupRow("raw", "g", "dedup", processed=processed)

    first = row(100)
    window.observe([first], 0.0)
    assert first.per_second_now is None, "one reading is no rate"
    rows = [row(100 + 50 * t) for t in range(1, 21)]
    for t, r in enumerate(rows, start=1):
        window.observe([r], float(t))
    assert rows[-1].per_second_now == 50.0
    recreated = row(5)
    window.observe([recreated], 21.0)
    assert recreated.per_second_now is None, "a counter that went back starts over"
    unknown = row(None)
    window.observe([unknown], 22.0)
    assert unknown.per_second_now is None
