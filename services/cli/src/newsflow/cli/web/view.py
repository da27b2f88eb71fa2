"""What the live page shows, computed from plain data: article cards with their entities as
highlighted segments, and the pipeline's groups summed over partitions with a live rate.

No Redis and no web framework here (``feed.py`` reads Redis, ``server.py`` serves the page)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from newsflow.cli.services import SERVICES
from newsflow.cli.status import StreamStatus
from newsflow.shared.events import ArticleEvent, EntityItem
from newsflow.shared.settings import Settings, StreamNames

# A card shows the start of the text; the page never needs a whole long article.
CARD_TEXT_CHARS = 1_200


def highlight(
    value: str, items: Iterable[EntityItem], limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """``value`` cut to ``limit`` characters as segments ``{"t": text}`` and, for entity spans,
    ``{"t": text, "label": "PER", "mention": 2}``. Spans whose offsets do not hold their own
    text, that overlap an earlier one or run past the cut are left plain (never a wrong
    highlight). Returns the segments and whether the value was cut."""
    cut = len(value) > limit
    shown = value[:limit]
    segments: list[dict[str, Any]] = []
    pos = 0
    for item in sorted(items, key=lambda i: (i.start, -i.end)):
        if item.start < pos or item.end > len(shown) or item.end <= item.start:
            continue
        if value[item.start : item.end] != item.text:
            continue
        if item.start > pos:
            segments.append({"t": shown[pos : item.start]})
        span: dict[str, Any] = {"t": item.text, "label": item.label}
        if item.mention is not None:
            span["mention"] = item.mention
        segments.append(span)
        pos = item.end
    if pos < len(shown):
        segments.append({"t": shown[pos:]})
    return segments, cut


def _seconds_between(event: ArticleEvent, first: str, last: str) -> float | None:
    a, b = event.trace.get(first), event.trace.get(last)
    if a is None or b is None:
        return None
    return round((b.at - a.at).total_seconds(), 3)


def article_card(event: ArticleEvent, entry_id: str, stream: str) -> dict[str, Any]:
    """The card of one event (enriched or duplicate) as the page renders it."""
    entities = event.entities
    items = entities.items if entities else []
    title, _ = highlight(event.title, [i for i in items if i.field == "title"], 10_000)
    text, cut = highlight(event.text, [i for i in items if i.field == "text"], CARD_TEXT_CHARS)
    language = event.language
    dedup = event.dedup
    return {
        "id": event.id,
        "entry_id": entry_id,
        "stream": stream,
        "title": title,
        "text": text,
        "text_cut": cut,
        "url": event.url,
        "source": event.source,
        "published_at": event.published_at.isoformat() if event.published_at else None,
        "language": None
        if language is None
        else {
            "code": language.code,
            "name": language.name,
            "confidence": round(language.confidence, 3),
            "other_segments": len(language.segments),
        },
        "dedup": None
        if dedup is None
        else {
            "status": dedup.status,
            "cluster_id": dedup.cluster_id or event.id,
            "similarity": dedup.similarity,
            "method": dedup.method,
        },
        "entities": None
        if entities is None
        else {
            "status": entities.status,
            "model": entities.model,
            "reason": entities.reason,
            "mentions": [
                {"name": m.name, "label": m.label, "count": m.count, "salience": m.salience}
                for m in entities.mentions
            ],
        },
        "pipeline_s": _seconds_between(event, "dedup", "entity"),
    }


# ---------------------------------------------------------------- pipeline groups


@dataclass(slots=True)
class GroupRow:
    """One consumer group of the pipeline, summed over its partitions."""

    stream: str  # logical name: raw, unique, ..., enriched
    group: str  # as configured: "newsflow.dedup", or a subscriber's own group
    stage: str | None  # dedup | language | entity; None for a subscriber's group
    consumers: int = 0
    pending: int = 0
    lag: int | None = 0
    oldest_pending_age_s: float | None = None
    per_second_last_minute: float | None = None
    processed: int | None = 0  # entries read minus pending, summed: the live rate's counter
    per_second_now: float | None = None
    dead_letters: int | None = None  # a stage's in the DLQ; a subscriber's in its own DLQ

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "group": self.group,
            "stage": self.stage,
            "consumers": self.consumers,
            "pending": self.pending,
            "lag": self.lag,
            "oldest_pending_age_s": self.oldest_pending_age_s,
            "per_second_last_minute": _round(self.per_second_last_minute),
            "per_second_now": _round(self.per_second_now),
            "dead_letters": self.dead_letters,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _logical_names(settings: Settings) -> dict[str, tuple[str, Settings]]:
    """Every partition's stream name -> (its logical name, the partition's view)."""
    out = {}
    for view in settings.partition_views():
        for field in StreamNames.model_fields:
            out[getattr(view.streams, field)] = (field, view)
    return out


def _stage_of(group: str, view: Settings) -> str | None:
    for stage in SERVICES:
        if group == view.group(stage):
            return stage
    return None


def summarise(
    streams: list[StreamStatus], settings: Settings
) -> tuple[dict[str, int], list[GroupRow]]:
    """Stream lengths and group rows summed over partitions, under their logical names."""
    names = _logical_names(settings)
    lengths: dict[str, int] = {field: 0 for field in StreamNames.model_fields}
    rows: dict[tuple[str, str], GroupRow] = {}
    for s in streams:
        logical, view = names.get(s.name, (s.name, settings))
        lengths[logical] = lengths.get(logical, 0) + s.length
        for g in s.groups:
            stage = _stage_of(g.name, view)
            group = settings.group(stage) if stage else g.name
            row = rows.setdefault((logical, group), GroupRow(logical, group, stage))
            row.consumers += g.consumers
            row.pending += g.pending
            row.lag = None if row.lag is None or g.lag is None else row.lag + g.lag
            if g.oldest_pending_age_s is not None:
                row.oldest_pending_age_s = max(
                    row.oldest_pending_age_s or 0.0, g.oldest_pending_age_s
                )
            if g.per_second_last_minute is not None and stage is not None:
                row.per_second_last_minute = (row.per_second_last_minute or 0.0) + (
                    g.per_second_last_minute
                )
            # Redis answers no entries-read for a group that has read nothing yet (0-0)
            read = 0 if g.entries_read is None and g.last_delivered_id == "0-0" else g.entries_read
            row.processed = (
                None if row.processed is None or read is None else row.processed + read - g.pending
            )
    order = {field: i for i, field in enumerate(StreamNames.model_fields)}
    ordered = sorted(
        rows.values(), key=lambda r: (order.get(r.stream, 99), r.stage is None, r.group)
    )
    return lengths, ordered


class RateWindow:
    """Entries per second of each group over the last ``window_s`` seconds, from successive
    readings of its processed counter (the group's entries read minus its pending entries,
    which every replica's acknowledgements move)."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self._samples: dict[tuple[str, str], deque[tuple[float, int]]] = {}

    def observe(self, rows: Iterable[GroupRow], now_s: float) -> None:
        for row in rows:
            key = (row.stream, row.group)
            if row.processed is None:
                self._samples.pop(key, None)
                continue
            samples = self._samples.setdefault(key, deque())
            if samples and row.processed < samples[-1][1]:
                samples.clear()  # the group was re-created: start over
            samples.append((now_s, row.processed))
            while len(samples) > 2 and now_s - samples[1][0] >= self.window_s:
                samples.popleft()
            first_t, first_n = samples[0]
            row.per_second_now = (
                (row.processed - first_n) / (now_s - first_t) if now_s > first_t else None
            )
