"""The live page's reading of Redis: read-only (XINFO, XPENDING, XREVRANGE, XLEN, MGET; no
group of its own, nothing written), one tick at a time.

A tick reads the pipeline's status, the newest enriched and duplicate events since the last
tick (at most the window's size, newest first, so a burst never makes the page fall behind)
and new dead letters, and returns a snapshot the page renders as it is."""

from __future__ import annotations

import itertools
import time
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from newsflow.cli.status import collect_status
from newsflow.cli.web.view import RateWindow, article_card, summarise
from newsflow.shared.events import ArticleEvent
from newsflow.shared.redis_streams import as_text, total_length
from newsflow.shared.settings import Settings
from newsflow.shared.wire import EVENT_FIELD

log = structlog.get_logger("newsflow.web")

# Dead letters counted by stage: the newest this many (the DLQ's total is always exact).
DLQ_COUNTED = 10_000
SHOWN_ARTICLES = 20  # on the page; the story view looks through all the state holds


@dataclass(slots=True)
class _Cursor:
    """Where the page has read a stream (one partition's) up to."""

    stream: str
    last_id: str | None = None  # None: not read yet


async def _newest_since(redis: Redis, cursor: _Cursor, count: int) -> list[tuple[str, Any]]:
    """Entries after the cursor, at most ``count`` (the newest), oldest first."""
    low = "-" if cursor.last_id is None else f"({cursor.last_id}"
    entries: list[tuple[Any, Any]] = list(
        await redis.xrevrange(cursor.stream, max="+", min=low, count=count) or []
    )
    if entries:
        cursor.last_id = as_text(entries[0][0])
    elif cursor.last_id is None:
        cursor.last_id = "0-0"
    return [(as_text(entry_id), fields) for entry_id, fields in reversed(entries)]


def _entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


@dataclass(slots=True)
class DlqCounter:
    """Dead letters by stage, kept up to date from the letters added since the last tick. When
    a partition's DLQ did not grow by what was read (a replay or an operator removed letters,
    or more arrived than one read takes) its newest ``DLQ_COUNTED`` letters are counted anew."""

    streams: list[str]
    cursors: dict[str, _Cursor] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    async def update(self, redis: Redis) -> int:
        """Read what changed; returns the exact total over the partitions."""
        total = 0
        for stream in self.streams:
            length = int(await redis.xlen(stream))
            total += length
            cursor = self.cursors.get(stream)
            new: list[tuple[str, Any]] = []
            if cursor is not None:
                new = await _newest_since(redis, cursor, DLQ_COUNTED)
                if length != self.lengths[stream] + len(new):
                    cursor = None
            if cursor is None:
                cursor = self.cursors[stream] = _Cursor(stream)
                self.counts[stream] = Counter()
                new = await _newest_since(redis, cursor, DLQ_COUNTED)
            self.lengths[stream] = length
            for _id, fields in new:
                self.counts[stream][as_text(fields.get(b"stage", b"?"))] += 1
        return total

    @property
    def by_stage(self) -> Counter[str]:
        return sum(self.counts.values(), Counter())

    @property
    def counted(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


class LiveState:
    """What the page shows, refreshed by :meth:`tick`."""

    def __init__(self, redis: Redis, settings: Settings, *, keep: int | None = None) -> None:
        self.redis = redis
        self.settings = settings
        self.keep = keep or settings.web_articles
        self.rates = RateWindow()
        self.enriched: OrderedDict[str, dict[str, Any]] = OrderedDict()  # article id -> card
        self.duplicates: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.invalid = 0
        self._cursors = {
            name: [_Cursor(s) for s in settings.partition_streams(name)]
            for name in ("enriched", "duplicates")
        }
        self.dlq = DlqCounter(settings.partition_streams("dlq"))
        self.snapshot: dict[str, Any] = {}
        self.version = 0  # ticks done
        self.articles_version = 0  # ticks that brought new events

    async def _read(self, name: str, into: OrderedDict[str, dict[str, Any]]) -> list[str]:
        fresh: list[tuple[int, str, str, Any]] = []
        for cursor in self._cursors[name]:
            for entry_id, fields in await _newest_since(self.redis, cursor, self.keep):
                fresh.append((_entry_ms(entry_id), entry_id, cursor.stream, fields))
        fresh.sort(key=lambda item: item[:2])  # partitions merged by entry time
        added = []
        for _ms, entry_id, stream, fields in fresh[-self.keep :]:
            try:
                event = ArticleEvent.model_validate_json(fields.get(EVENT_FIELD.encode(), b""))
            except ValidationError:
                self.invalid += 1
                log.warning("invalid_event", stream=stream, entry_id=entry_id)
                continue
            into.pop(event.id, None)  # a redelivered copy replaces the first
            into[event.id] = article_card(event, entry_id, stream)
            added.append(event.id)
        while len(into) > self.keep:
            into.popitem(last=False)
        return added

    def _copies(self) -> dict[str, list[str]]:
        clusters: dict[str, list[str]] = defaultdict(list)
        for article_id, card in self.duplicates.items():
            dedup = card.get("dedup")
            if dedup and dedup.get("cluster_id"):
                clusters[dedup["cluster_id"]].append(article_id)
        return clusters

    async def tick(self) -> dict[str, Any]:
        status = await collect_status(self.redis, self.settings)
        lengths, rows = summarise(status, self.settings)
        self.rates.observe(rows, time.monotonic())
        new_enriched = await self._read("enriched", self.enriched)
        new_duplicates = await self._read("duplicates", self.duplicates)
        dlq_total = await self.dlq.update(self.redis)
        by_stage = self.dlq.by_stage
        for row in rows:
            if row.stage is not None:
                row.dead_letters = by_stage.get(row.stage, 0)
            else:  # newsflow.client.Subscriber's own dead letters: <stream>.<group>.dlq
                streams = self.settings.partition_streams(row.stream)
                row.dead_letters = await total_length(
                    self.redis, [f"{s}.{row.group}.dlq" for s in streams]
                )
        copies = self._copies()
        self.version += 1
        if new_enriched or new_duplicates:
            self.articles_version += 1
        self.snapshot = {
            "version": self.version,
            "at": time.time(),
            "redis": self.settings.redis_display(),
            "partitions": self.settings.partitions,
            "streams": lengths,
            "groups": [r.as_dict() for r in rows],
            "dlq": {
                "total": dlq_total,
                "by_stage": dict(by_stage),
                "counted": self.dlq.counted,
            },
            "new": {"enriched": len(new_enriched), "duplicates": len(new_duplicates)},
            "articles": [
                {**card, "copies": len(copies.get(card["id"], []))}
                for card in itertools.islice(reversed(self.enriched.values()), SHOWN_ARTICLES)
            ],
            "invalid_events": self.invalid,
        }
        return self.snapshot

    def story(self, cluster_id: str) -> dict[str, Any] | None:
        """A story cluster as far as the page holds it: its first article (when still among
        the latest enriched) and the copies the dedup stage sent to the duplicates stream."""
        head = self.enriched.get(cluster_id)
        copies = [
            c
            for c in self.duplicates.values()
            if (c.get("dedup") or {}).get("cluster_id") == cluster_id
        ]
        if head is None and not copies:
            return None
        return {"cluster_id": cluster_id, "head": head, "copies": copies, "held": self.keep}
