"""The stage runtime: one FastStream app shape, shared by the three services.

A service supplies a :class:`Stage` (pure logic plus its own state adapters); this module wires
it to Redis Streams:

* one consumer group per service, created at ``0`` before the subscriber starts, and a consumer
  name unique per process (``service-host-pid``);
* bounded batch reads (``batch_size`` entries at most, so one replica never swallows a backlog);
* each entry decoded against the event contract; entries that break it become dead letters
  (a batch is never failed whole for one bad item);
* outputs, dead letters and the XACK of the input entries go to Redis in one MULTI/EXEC
  transaction: an entry is acknowledged exactly when its outputs are written, never before,
  and its outputs are written only by the consumer whose XACK acknowledged it (ackgate.py), so
  an entry taken over by a reclaimer while its first consumer was still on it comes out once;
* if the stage raises (a transient fault), nothing is acknowledged and the entries stay pending.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from redis.asyncio import Redis

from newsflow.shared.ackgate import GATE_SCRIPT, Output, gate_call
from newsflow.shared.errors import PermanentError
from newsflow.shared.events import ArticleEvent, DeadLetter, InputLimits
from newsflow.shared.metrics import StageMetrics
from newsflow.shared.outputs import OutputConnection
from newsflow.shared.rates import count_handled
from newsflow.shared.settings import Settings
from newsflow.shared.wire import Entry, decode_event, encode_dead_letter, encode_event

# How long the last error of a pending entry is kept (the retry cap acts much sooner).
FAILURE_RECORD_TTL = 7 * 24 * 3600


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
    # For the output transaction: never re-sent after a timeout (see redis_streams.connect).
    transactions: Redis | None = None


class Stage(Protocol):
    """A pipeline stage: decode entries, process a batch of events, route each one."""

    service: str

    def input_stream(self, settings: Settings) -> str: ...

    def decode(self, entry: Entry) -> ArticleEvent:
        """Read one entry; raise :class:`PermanentError` if it breaks the contract."""
        ...

    def in_flight(self, settings: Settings) -> int:
        """How many read batches may be processed at once by one replica (each read by its
        own consumer of the group). 1 unless the stage's work runs elsewhere in parallel."""
        ...

    async def start(self, ctx: StageContext) -> None:
        """Load models and connect state. Called once, before the first read."""
        ...

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        """One outcome per event, in order. Raise to leave the whole batch pending (transient)."""
        ...

    async def close(self) -> None: ...


class EventInput:
    """For stages that read events an earlier stage wrote (language, entity): the one way to
    decode them."""

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_event(entry.fields)

    def in_flight(self, settings: Settings) -> int:
        return 1


def dead_letter(
    ctx: StageContext,
    entry: Entry,
    stream: str,
    *,
    reason: str,
    error_type: str,
    article_id: str | None = None,
    attempts: int | None = None,
) -> DeadLetter:
    return DeadLetter(
        stage=ctx.service,
        reason=reason,
        error_type=error_type,
        service=ctx.service,
        consumer=ctx.consumer,
        attempts=attempts,
        original_stream=stream,
        original_id=entry.entry_id,
        article_id=article_id or entry.fields.get("id"),
        payload=entry.fields,
    )


@dataclass(slots=True)
class BatchResult:
    routed: int = 0
    dead_lettered: int = 0
    failed: list[str] = field(default_factory=list)  # entry ids left pending (transient errors)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StageRunner:
    """Runs batches through a stage and writes the results; independent of FastStream.

    Failures are isolated: when a stage raises on a batch, its events are retried one by one in
    the same call, so one poisonous article cannot hold back the others. An entry that still
    fails stays pending (unacknowledged) and its error is remembered in a Redis hash, so the
    reclaimer can retry it later and, once the retry cap is reached, dead-letter it with that
    error.
    """

    def __init__(
        self,
        stage: Stage,
        ctx: StageContext,
        metrics: StageMetrics | None = None,
        *,
        partition: Settings | None = None,
        output: OutputConnection | None = None,
    ) -> None:
        """``partition``: the settings view of the partition this runner reads
        (:meth:`Settings.partition`); the stage routes to the unpartitioned stream names and
        the runner writes each output to the same partition of that stream, so a batch's
        outputs, dead letters and XACK share one hash tag. ``output``: where the transaction
        goes and how it is confirmed (outputs.py); default the context's transaction client."""
        self.stage = stage
        self.ctx = ctx
        self.metrics = metrics
        self.output = output
        view = partition or ctx.settings
        self.view = view
        self.input_stream = stage.input_stream(view)
        self.group = view.group(stage.service)
        self.dlq = view.streams.dlq
        self.failures_key = view.key("failures", self.group)
        self.maxlen = ctx.settings.stream_maxlen or None
        self.route = dict(zip(ctx.settings.streams.all(), view.streams.all(), strict=True))
        self.log = structlog.get_logger(f"newsflow.{stage.service}")

    async def _process(
        self, decoded: list[tuple[Entry, ArticleEvent]]
    ) -> tuple[list[tuple[Entry, ArticleEvent, Outcome]], list[tuple[Entry, BaseException]]]:
        events = [event for _, event in decoded]
        try:
            outcomes = await self.stage.process(events)
        except Exception as exc:
            if len(decoded) == 1:
                return [], [(decoded[0][0], exc)]
            self.log.warning(
                "batch failed; retrying its events one by one",
                error_type=type(exc).__name__,
                error=str(exc)[:500],
                size=len(decoded),
            )
            done: list[tuple[Entry, ArticleEvent, Outcome]] = []
            failed: list[tuple[Entry, BaseException]] = []
            for item in decoded:
                one_done, one_failed = await self._process([item])
                done.extend(one_done)
                failed.extend(one_failed)
            return done, failed
        if len(outcomes) != len(decoded):
            raise RuntimeError(
                f"stage {self.stage.service} returned {len(outcomes)} outcomes "
                f"for {len(decoded)} events"
            )
        return [(e, ev, o) for (e, ev), o in zip(decoded, outcomes, strict=True)], []

    async def run_batch(
        self, entries: Sequence[Entry], *, exhausted: Mapping[str, int] | None = None
    ) -> BatchResult:
        """Process entries; ``exhausted`` maps entry ids that reached the retry cap to their
        delivery count: those go to the DLQ with their last error instead of being processed."""
        started = time.perf_counter()
        # Bound once per batch: each call on structlog's lazy proxy binds a new logger, and
        # the per-entry debug line below would pay for that on every entry at any level.
        log = self.log.bind()
        exhausted = exhausted or {}
        letters: list[DeadLetter] = []
        decoded: list[tuple[Entry, ArticleEvent]] = []
        if exhausted:
            letters.extend(await self._exhausted_letters(entries, exhausted))
        for entry in entries:
            if entry.entry_id in exhausted:
                continue
            try:
                decoded.append((entry, self.stage.decode(entry)))
            except PermanentError as exc:
                letters.append(self._letter(entry, str(exc), type(exc).__name__))

        done, failed = await self._process(decoded) if decoded else ([], [])
        failed_ids = {entry.entry_id for entry, _ in failed}

        result = BatchResult(failed=sorted(failed_ids))
        routed_streams: list[str] = []
        output = self.output
        if output is not None:
            await output.lock.acquire()
        try:
            client = (
                await output.client()
                if output is not None
                else self.ctx.transactions or self.ctx.redis
            )
            pipe = client.pipeline(transaction=True)
            outputs: dict[str, list[Output]] = {e.entry_id: [] for e in entries}
            routed: dict[str, str] = {}
            for entry, event, outcome in done:
                if isinstance(outcome, Rejected):
                    letters.append(
                        self._letter(entry, outcome.reason, outcome.error_type, article_id=event.id)
                    )
                    continue
                stream = self.route.get(outcome.stream, outcome.stream)
                outputs[entry.entry_id].append(Output(stream, encode_event(outcome.event)))
                routed[entry.entry_id] = stream
                log.debug("routed", article_id=event.id, stream=stream)
            for letter in letters:
                outputs[letter.original_id].append(
                    Output(self.dlq, encode_dead_letter(letter), capped=False)
                )
            acked = [e.entry_id for e in entries if e.entry_id not in failed_ids]
            if acked:
                # XACK and outputs in one script: written only by whoever acknowledges first
                keys, args = gate_call(
                    self.input_stream,
                    self.group,
                    self.maxlen,
                    [(entry_id, outputs[entry_id]) for entry_id in acked],
                )
                pipe.eval(GATE_SCRIPT, len(keys), *keys, *args)
                pipe.hdel(self.failures_key, *acked)
                count_handled(pipe, self.view, self.group, len(acked), time.time())
            for entry, error in failed:
                record = json.dumps(
                    {
                        "error_type": type(error).__name__,
                        "message": str(error)[:2000],
                        "consumer": self.ctx.consumer,
                    }
                )
                pipe.hset(self.failures_key, entry.entry_id, record)
                log.error(
                    "processing failed; entry stays pending for retry",
                    entry_id=entry.entry_id,
                    article_id=entry.fields.get("id"),
                    error_type=type(error).__name__,
                    error=str(error)[:500],
                )
            if failed:
                pipe.expire(self.failures_key, FAILURE_RECORD_TTL)
            try:
                replies = await pipe.execute()
            except Exception:
                if output is not None:
                    await output.lost()
                raise
            skipped = {_text(x) for x in replies[0]} if acked else set()
            if skipped:
                # another consumer (a reclaimer) acknowledged these first, outputs included
                log.info(
                    "already acknowledged elsewhere: outputs not written again",
                    entries=len(skipped),
                )
            letters = [lt for lt in letters if lt.original_id not in skipped]
            routed_streams = [s for e, s in routed.items() if e not in skipped]
            result.routed = len(routed_streams)
            result.dead_lettered = len(letters)
            for letter in letters:
                log.warning(
                    "dead-lettered",
                    article_id=letter.article_id,
                    entry_id=letter.original_id,
                    reason=letter.reason,
                    attempts=letter.attempts,
                )
            if output is not None:
                await output.confirm(client)
        finally:
            if output is not None:
                output.lock.release()
        if self.metrics is not None:
            self.metrics.observe_batch(
                [e.entry_id for e in entries],
                routed=routed_streams,
                dead_lettered=result.dead_lettered,
                failed=len(failed),
                seconds=time.perf_counter() - started,
            )
        log.debug(
            "batch done",
            entries=len(entries),
            routed=result.routed,
            dead_lettered=result.dead_lettered,
            failed=len(failed),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return result

    async def _exhausted_letters(
        self, entries: Sequence[Entry], exhausted: Mapping[str, int]
    ) -> list[DeadLetter]:
        ids = [e.entry_id for e in entries if e.entry_id in exhausted]
        records = await self.ctx.redis.hmget(self.failures_key, ids)
        last_errors = dict(zip(ids, records, strict=True))
        letters = []
        for entry in entries:
            if entry.entry_id not in exhausted:
                continue
            attempts = exhausted[entry.entry_id] - 1
            raw = last_errors.get(entry.entry_id)
            info = json.loads(raw) if raw else {}
            error_type = str(info.get("error_type", "Unknown"))
            message = str(info.get("message", "consumer died or never reported an error"))
            try:
                article_id: str | None = self.stage.decode(entry).id
            except Exception:
                article_id = None
            letters.append(
                self._letter(
                    entry,
                    f"gave up after {attempts} attempts: {error_type}: {message}",
                    error_type,
                    attempts=attempts,
                    article_id=article_id,
                )
            )
        return letters

    def _letter(
        self,
        entry: Entry,
        reason: str,
        error_type: str,
        *,
        article_id: str | None = None,
        attempts: int | None = None,
    ) -> DeadLetter:
        return dead_letter(
            self.ctx,
            entry,
            self.input_stream,
            reason=reason,
            error_type=error_type,
            article_id=article_id,
            attempts=attempts,
        )
