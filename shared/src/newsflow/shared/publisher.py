"""Publishing articles from Python: validate against the contract, write to ``articles.raw``.

Articles that break the contract are not dropped: they are written to the dead-letter stream
(stage ``publish``) with the reason, and reported back to the caller.

    from newsflow.shared.publisher import ArticlePublisher
    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish([{"title": "...", "text": "..."}])
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from redis.asyncio import Redis

from newsflow.shared.errors import InvalidPayload
from newsflow.shared.events import DeadLetter
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_article, encode_dead_letter, validate_article


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
    def __init__(self, redis: Redis, settings: Settings, *, chunk: int = 500) -> None:
        self.redis = redis
        self.settings = settings
        self.limits = settings.input_limits()
        self.chunk = chunk
        self.consumer = f"publish-{socket.gethostname()}-{os.getpid()}"

    @classmethod
    def connect(cls, settings: Settings) -> ArticlePublisher:
        return cls(connect(settings.redis_dsn()), settings)

    async def __aenter__(self) -> ArticlePublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    async def publish(
        self,
        items: Iterable[Candidate | Mapping[str, Any]],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> PublishReport:
        report = PublishReport()
        pipe = self.redis.pipeline(transaction=False)
        pending = 0
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
                    pipe.xadd(self.settings.streams.raw, encode_article(item.data))  # type: ignore[arg-type]
                    report.published += 1
                    report.published_ids.append(article.with_id())
            if letter is not None:
                pipe.xadd(self.settings.streams.dlq, encode_dead_letter(letter))  # type: ignore[arg-type]
                report.rejected.append((item.origin, letter.reason))
            pending += 1
            if pending >= self.chunk:
                await pipe.execute()
                if on_progress:
                    on_progress(pending)
                pending = 0
        if pending:
            await pipe.execute()
            if on_progress:
                on_progress(pending)
        return report
