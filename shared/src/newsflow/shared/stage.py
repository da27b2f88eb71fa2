"""The stage runtime: one FastStream app shape, shared by the three services.

A service supplies a :class:`Stage` (pure logic plus its own state adapters); this module wires
it to Redis Streams:

* one consumer group per service, created at ``0`` before the subscriber starts, and a consumer
  name unique per process (``service-host-pid``);
* bounded batch reads (``batch_size`` entries at most, so one replica never swallows a backlog);
* each entry decoded against the event contract; entries that break it become dead letters
  (a batch is never failed whole for one bad item);
* outputs, dead letters and the XACK of the input entries go to Redis in one MULTI/EXEC
  transaction: an entry is acknowledged exactly when its outputs are written, never before;
* if the stage raises (a transient fault), nothing is acknowledged and the entries stay pending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from newsflow.shared.errors import PermanentError
from newsflow.shared.events import ArticleEvent, DeadLetter, InputLimits
from newsflow.shared.logging import configure_logging
from newsflow.shared.redis_streams import connect, ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.wire import (
    Entry,
    batch_entry_parser,
    encode_dead_letter,
    encode_event,
    entries_from_body,
)
from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Routed:
    """Publish ``event`` to ``stream``."""

    stream: str
    event: ArticleEvent


@dataclass(frozen=True, slots=True)
class Rejected:
    """Send the entry to the dead-letter stream with this reason."""

    reason: str
    error_type: str = "PermanentError"


Outcome = Routed | Rejected


@dataclass(slots=True)
class StageContext:
    """What a stage gets at start-up."""

    settings: Settings
    service: str
    consumer: str
    redis: Redis
    limits: InputLimits = field(default_factory=InputLimits)


class Stage(Protocol):
    """A pipeline stage: decode entries, process a batch of events, route each one."""

    service: str

    def input_stream(self, settings: Settings) -> str: ...

    def decode(self, entry: Entry) -> ArticleEvent:
        """Read one entry; raise :class:`PermanentError` if it breaks the contract."""
        ...

    async def start(self, ctx: StageContext) -> None:
        """Load models and connect state. Called once, before the first read."""
        ...

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        """One outcome per event, in order. Raise to leave the whole batch pending (transient)."""
        ...

    async def close(self) -> None: ...


def dead_letter(
    ctx: StageContext,
    entry: Entry,
    stream: str,
    *,
    reason: str,
    error_type: str,
    article_id: str | None = None,
) -> DeadLetter:
    return DeadLetter(
        stage=ctx.service,
        reason=reason,
        error_type=error_type,
        service=ctx.service,
        consumer=ctx.consumer,
        original_stream=stream,
        original_id=entry.entry_id,
        article_id=article_id or entry.fields.get("id"),
        payload=entry.fields,
    )


class StageRunner:
    """Runs one batch through a stage and writes the results; independent of FastStream."""

    def __init__(self, stage: Stage, ctx: StageContext) -> None:
        self.stage = stage
        self.ctx = ctx
        self.input_stream = stage.input_stream(ctx.settings)
        self.group = ctx.settings.group(stage.service)
        self.dlq = ctx.settings.streams.dlq
        self.log = structlog.get_logger(f"newsflow.{stage.service}")

    async def run_batch(self, entries: Sequence[Entry]) -> None:
        started = time.perf_counter()
        letters: list[DeadLetter] = []
        decoded: list[tuple[Entry, ArticleEvent]] = []
        for entry in entries:
            try:
                decoded.append((entry, self.stage.decode(entry)))
            except PermanentError as exc:
                letters.append(self._letter(entry, str(exc), type(exc).__name__))

        outcomes = await self.stage.process([event for _, event in decoded]) if decoded else []
        if len(outcomes) != len(decoded):
            raise RuntimeError(
                f"stage {self.stage.service} returned {len(outcomes)} outcomes "
                f"for {len(decoded)} events"
            )

        pipe = self.ctx.redis.pipeline(transaction=True)
        routed = 0
        for (entry, event), outcome in zip(decoded, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                letters.append(
                    self._letter(entry, outcome.reason, outcome.error_type, article_id=event.id)
                )
                continue
            pipe.xadd(outcome.stream, encode_event(outcome.event))  # type: ignore[arg-type]
            routed += 1
            self.log.debug("routed", article_id=event.id, stream=outcome.stream)
        for letter in letters:
            pipe.xadd(self.dlq, encode_dead_letter(letter))  # type: ignore[arg-type]
            self.log.warning(
                "dead-lettered",
                article_id=letter.article_id,
                entry_id=letter.original_id,
                reason=letter.reason,
            )
        pipe.xack(self.input_stream, self.group, *[e.entry_id for e in entries])
        await pipe.execute()
        self.log.debug(
            "batch done",
            entries=len(entries),
            routed=routed,
            dead_lettered=len(letters),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _letter(
        self, entry: Entry, reason: str, error_type: str, *, article_id: str | None = None
    ) -> DeadLetter:
        return dead_letter(
            self.ctx,
            entry,
            self.input_stream,
            reason=reason,
            error_type=error_type,
            article_id=article_id,
        )


def build_app(stage: Stage, settings: Settings) -> FastStream:
    """The FastStream application of a stage. Settings are built by the caller and passed in."""
    configure_logging(settings, service=stage.service)
    logger = structlog.get_logger("faststream")
    consumer = settings.resolved_consumer_name(stage.service)
    input_stream = stage.input_stream(settings)
    group = settings.group(stage.service)

    broker = RedisBroker(settings.redis_url, logger=logger, log_level=logging.DEBUG)
    subscriber = broker.subscriber(
        stream=StreamSub(
            input_stream,
            group=group,
            consumer=consumer,
            batch=True,
            max_records=settings.batch_size,
            polling_interval=settings.block_ms,
        ),
        parser=batch_entry_parser,
        ack_policy=AckPolicy.MANUAL,
        title=f"{stage.service}:{input_stream}",
    )
    app = FastStream(broker, logger=logger)
    state: dict[str, Any] = {}

    @subscriber
    async def handle(body: list[dict[str, Any]]) -> None:
        await state["runner"].run_batch(entries_from_body(body))

    @app.on_startup
    async def _start() -> None:
        client = connect(settings.redis_url)
        created = await ensure_group(client, input_stream, group)
        ctx = StageContext(
            settings=settings,
            service=stage.service,
            consumer=consumer,
            redis=client,
            limits=InputLimits(
                max_text_bytes=settings.max_text_bytes,
                max_title_chars=settings.max_title_chars,
                max_metadata_bytes=settings.max_metadata_bytes,
            ),
        )
        await stage.start(ctx)
        state["runner"] = StageRunner(stage, ctx)
        state["redis"] = client
        structlog.get_logger("newsflow").info(
            "stage started",
            stream=input_stream,
            group=group,
            consumer=consumer,
            group_created=created,
        )

    @app.after_shutdown
    async def _stop() -> None:
        await stage.close()
        client = state.get("redis")
        if client is not None:
            await client.aclose()
        structlog.get_logger("newsflow").info("stage stopped", consumer=consumer)

    return app
