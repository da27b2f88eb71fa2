"""Reclaiming stuck entries: nothing stays pending forever.

FastStream reads only new entries (``>``). An entry whose handler failed, or whose consumer died
(kill -9, OOM, node loss), stays in the group's pending list. The :class:`Reclaimer` runs beside
the subscriber in every replica: it claims entries idle longer than ``min_idle_ms`` from any
consumer of the group (XAUTOCLAIM), processes them like new ones, and dead-letters those that
were already delivered ``max_attempts`` times (the delivery count comes from XPENDING).

The same loop trims the input stream of entries every consumer group has acknowledged, and
removes the consumers of gone replicas (nothing pending, no read for ``forget_idle_ms``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection

import structlog
from redis.exceptions import ResponseError

from newsflow.shared.redis_streams import claim_idle, forget_idle_consumers, trim_consumed
from newsflow.shared.stage import StageRunner


class Reclaimer:
    def __init__(
        self,
        runner: StageRunner,
        *,
        min_idle_ms: int,
        max_attempts: int,
        count: int,
        interval_s: float,
        on_group_missing: Callable[[], Awaitable[None]] | None = None,
        trim_interval_s: float | None = None,
        forget_idle_ms: int = 0,
        own_consumers: Collection[str] = (),
    ) -> None:
        self.trim_interval_s = trim_interval_s
        self.forget_idle_ms = forget_idle_ms
        self.own_consumers = frozenset(own_consumers) | {runner.ctx.consumer}
        self._next_trim = 0.0
        self.runner = runner
        self.redis = runner.ctx.redis
        self.stream = runner.input_stream
        self.group = runner.group
        self.consumer = runner.ctx.consumer
        self.min_idle_ms = min_idle_ms
        self.max_attempts = max_attempts
        self.count = count
        self.interval_s = interval_s
        self.on_group_missing = on_group_missing
        self.log = structlog.get_logger("newsflow.reclaim")
        self.reclaimed_total = 0

    async def reclaim_once(self) -> int:
        """One pass over the whole pending list; returns how many entries were reclaimed."""
        start = "0-0"
        reclaimed = 0
        while True:
            claimed = await claim_idle(
                self.redis, self.stream, self.group, self.consumer,
                min_idle_ms=self.min_idle_ms, count=self.count, start=start,
            )  # fmt: skip
            next_id, entries, deleted = claimed.next_id, claimed.entries, claimed.deleted
            if deleted:
                # Trimmed or deleted while pending: nothing left to process.
                await self.redis.xack(self.stream, self.group, *deleted)
                self.log.warning("pending entries no longer in the stream", ids=deleted[:20])
            if entries:
                counts = claimed.deliveries
                exhausted = {
                    e.entry_id: counts[e.entry_id]
                    for e in entries
                    if counts.get(e.entry_id, 0) > self.max_attempts
                }
                self.log.info(
                    "reclaimed pending entries",
                    count=len(entries),
                    exhausted=len(exhausted),
                    first=entries[0].entry_id,
                )
                await self.runner.run_batch(entries, exhausted=exhausted)
                reclaimed += len(entries)
            if next_id == "0-0":
                break
            start = next_id
        self.reclaimed_total += reclaimed
        return reclaimed

    async def trim_if_due(self) -> None:
        now = time.monotonic()
        if self.trim_interval_s is None or now < self._next_trim:
            return
        self._next_trim = now + self.trim_interval_s
        removed = await trim_consumed(self.redis, self.stream)
        if removed:
            self.log.debug("trimmed consumed entries", stream=self.stream, removed=removed)
        if self.forget_idle_ms:
            gone = await forget_idle_consumers(
                self.redis, self.stream, self.group, self.forget_idle_ms, self.own_consumers
            )
            if gone:
                self.log.info("removed consumers of gone replicas", consumers=gone[:20])

    async def run(self, stop: asyncio.Event) -> None:
        """Reclaim (and trim) until ``stop`` is set; errors are logged and retried, never fatal."""
        while not stop.is_set():
            reclaimed = 0
            try:
                reclaimed = await self.reclaim_once()
                await self.trim_if_due()
            except ResponseError as exc:
                if "NOGROUP" in str(exc) and self.on_group_missing is not None:
                    await self.on_group_missing()
                else:
                    self.log.error("reclaim failed", error=str(exc))
            except Exception as exc:
                self.log.error("reclaim failed", error_type=type(exc).__name__, error=str(exc))
            if reclaimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
