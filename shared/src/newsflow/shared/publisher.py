"""Publishing articles from Python: validate against the contract, write to ``articles.raw``.

With partitions (``NEWSFLOW_PARTITIONS`` > 1) an article goes to the partition its id picks
(partitions.py). With ``redis_wait_replicas`` (1 by default on a cluster) each chunk is sent per
partition over that partition's own connection and followed by WAIT, so a publish that returned
survives the loss of the primary (outputs.py).

Articles that break the contract are not dropped: they are written to the dead-letter stream
(stage ``publish``) with the reason, and reported back to the caller.

    from newsflow.shared.publisher import ArticlePublisher
    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish([{"title": "...", "text": "..."}])
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsflow.shared.errors import InvalidPayload
from newsflow.shared.events import DeadLetter
from newsflow.shared.outputs import OutputConnection
from newsflow.shared.partitions import partition_of
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_article, encode_dead_letter, validate_article

# A partition's primary gone, or its slot moving (ASK/TRYAGAIN while migrating, MOVED after):
# the chunk is retried (see _write_once).
RETRYABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    AskError,
    MovedError,
    OSError,
)
MARKER_TTL_S = 3600


@dataclass(frozen=True, slots=True)
class Candidate:
    """One input article, or the reason it could not even be read (bad JSON, not an object)."""

    origin: str
    data: Mapping[str, Any] | None
    error: str | None = None


@dataclass(slots=True)
class PublishReport:
    published: int = 0
    published_ids: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _as_json(data: Any) -> str:
    """The rejected article for its dead letter: JSON, ASCII-escaped so even text with lone
    surrogates is kept (as \\udXXX escapes); what JSON cannot hold (a cycle from the Python
    API) as Python's repr, so nothing is lost and nothing raises."""
    try:
        return json.dumps(data, ensure_ascii=True, default=str)
    except (ValueError, RecursionError):
        return repr(data)


class ArticlePublisher:
    def __init__(
        self, redis: Redis, settings: Settings, *, chunk: int = 500, retry_s: float = 60.0
    ) -> None:
        self.redis = redis
        self.retry_s = retry_s
        self.log = structlog.get_logger("newsflow.publisher")
        self.settings = settings
        self.limits = settings.input_limits()
        self.chunk = chunk
        self.consumer = f"publish-{socket.gethostname()}-{os.getpid()}"
        self.pinned = settings.redis_cluster or settings.wait_replicas > 0
        self._outputs: dict[int, OutputConnection] = {}

    @classmethod
    def connect(cls, settings: Settings) -> ArticlePublisher:
        return cls(connect(settings.redis_dsn(), cluster=settings.redis_cluster), settings)

    async def __aenter__(self) -> ArticlePublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for output in self._outputs.values():
            await output.close()
        await self.redis.aclose()

    def _dead_letter(self, item: Candidate, reason: str, error_type: str) -> DeadLetter:
        raw = _as_json(item.data) if item.data is not None else ""
        return DeadLetter(
            stage="publish",
            reason=reason,
            error_type=error_type,
            service="publisher",
            consumer=self.consumer,
            original_stream=self.settings.streams.raw,
            original_id=item.origin,
            payload={"article": raw} if item.data is not None else {"error": item.error or ""},
        )

    async def _flush(self, chunk: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Write a chunk of (partition, stream, fields); on one node without WAIT as one
        pipeline, else per partition over its own connection, each followed by WAIT."""
        if not chunk:
            return
        if not self.pinned:
            pipe = self.redis.pipeline(transaction=False)
            for _, stream, fields in chunk:
                pipe.xadd(stream, fields)  # type: ignore[arg-type]
            await pipe.execute()
            return
        by_partition: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        for part, stream, fields in chunk:
            by_partition.setdefault(part, []).append((stream, fields))
        for part, writes in by_partition.items():
            output = self._outputs.get(part)
            if output is None:
                view = self.settings.partition(part)
                output = OutputConnection(view, self.redis, view.streams.raw)
                self._outputs[part] = output
            await self._write_once(output, writes)

    async def _write_once(
        self, output: OutputConnection, writes: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """One partition's share of a chunk, written exactly once through a failover: the
        XADDs and a marker key go in one MULTI/EXEC (replicated as a unit), so after a broken
        connection the marker on the (new) primary says whether the chunk is there; it is sent
        again only if not. Gives up (raises) after ``retry_s`` seconds without a primary."""
        marker = output.settings.key("published", uuid.uuid4().hex)
        deadline = time.monotonic() + self.retry_s
        delay, attempt = 0.1, 0
        while True:
            attempt += 1
            async with output.lock:
                try:
                    client = await output.client()
                    if attempt > 1 and await client.exists(marker):
                        return  # the attempt that broke had landed (and was replicated)
                    pipe = client.pipeline(transaction=True)
                    for stream, fields in writes:
                        pipe.xadd(stream, fields)  # type: ignore[arg-type]
                    pipe.set(marker, b"1", ex=MARKER_TTL_S)
                    await pipe.execute()
                except RETRYABLE as exc:
                    await output.lost()
                    if time.monotonic() + delay > deadline:
                        raise
                    self.log.warning(
                        "publish interrupted; retrying the chunk",
                        error=str(exc)[:200],
                        articles=len(writes),
                    )
                else:
                    await output.confirm(client)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def publish(
        self,
        items: Iterable[Candidate | Mapping[str, Any]],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> PublishReport:
        report = PublishReport()
        chunk: list[tuple[int, str, dict[str, Any]]] = []
        dlq_view = self.settings.partition(0)
        for n, raw_item in enumerate(items):
            item = (
                raw_item
                if isinstance(raw_item, Candidate)
                else Candidate(origin=f"item {n + 1}", data=raw_item)
            )
            letter: DeadLetter | None = None
            if item.data is None:
                letter = self._dead_letter(item, item.error or "unreadable input", "InvalidPayload")
            else:
                try:
                    article = validate_article(item.data, self.limits)
                except InvalidPayload as exc:
                    letter = self._dead_letter(item, str(exc), type(exc).__name__)
                else:
                    article_id = article.with_id()
                    part = partition_of(article_id, self.settings.partitions)
                    view = self.settings.partition(part)
                    chunk.append((part, view.streams.raw, encode_article(item.data)))
                    report.published += 1
                    report.published_ids.append(article_id)
            if letter is not None:
                chunk.append((0, dlq_view.streams.dlq, encode_dead_letter(letter)))
                report.rejected.append((item.origin, letter.reason))
            if len(chunk) >= self.chunk:
                await self._flush(chunk)
                if on_progress:
                    on_progress(len(chunk))
                chunk = []
        if chunk:
            await self._flush(chunk)
            if on_progress:
                on_progress(len(chunk))
        return report
