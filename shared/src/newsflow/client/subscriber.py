"""A subscriber of one of newsflow's output streams, with its own consumer group.

What every subscriber would otherwise write itself around ``XREADGROUP``:

* the group is created at ``0`` (the backlog is read; ``start="$"``: only what comes next), and
  each process reads as its own consumer (``<group>-<host>-<pid>`` unless named);
* reads are bounded (``count`` entries a read), and entries a dead consumer of the group left
  pending longer than ``reclaim_idle_ms`` are taken over (``XAUTOCLAIM``) and delivered again;
* an event is acknowledged once the loop body that got it ends without raising: on the next
  iteration, or when the ``async with`` block is left normally (after a ``break``); the
  acknowledgements go in groups, sent when the oldest has waited ``ack_interval_ms``, before
  each read and on leaving (so a crash redelivers at most that much of what was handled). An
  exception from the body must leave the ``async with`` block (or the loop must be started
  again: a new ``async for`` forgets the last event) for its event to stay pending, since a
  loop cannot tell a ``break`` from an exception caught around it. An event whose body raised
  stays pending and comes back through the reclaim (after ``reclaim_idle_ms``: the back-off);
  entries read but not handed out yet are handed back on leaving, their delivery count as it
  was, for any consumer to take at once. One delivered ``max_deliveries`` times goes
  to the subscriber's own dead-letter stream (``<stream>.<group>.dlq``, beside its stream, so
  the letter and its XACK are one transaction on a cluster too) with the reason, as does an
  entry that is not a valid event;
* delivery is at least once (the pipeline itself may publish an article twice after a crash),
  so a redelivered article id is skipped: by ``processed(id)`` when given (the subscriber's own
  store says it has the result, the way to exactly once), and by the ids the group handled in
  the last ``seen_ttl_s`` (0 turns it off), a sorted set beside each stream;
* on a partitioned or cluster layout (``NEWSFLOW_PARTITIONS``, ``NEWSFLOW_REDIS_CLUSTER``) it
  reads every partition's stream, one group on each.

Settings are the pipeline's own (``newsflow.shared.settings``): the URL, credentials, TLS,
stream prefix and partitions come from them, or from ``NEWSFLOW_*`` when none are given.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from newsflow.shared.errors import InvalidPayload
from newsflow.shared.events import ArticleEvent
from newsflow.shared.redis_streams import as_text, claim_idle, connect, ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.wire import decode_event, decode_fields

Processed = Callable[[str], Awaitable[bool]]


@dataclass(slots=True)
class _Delivery:
    stream: str
    entry_id: str
    event: ArticleEvent


class Subscriber:
    """Events of one output stream for one consumer group (see the module's description)."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        *,
        stream: str,
        group: str,
        consumer: str | None = None,
        start: str = "0",
        count: int = 64,
        block_ms: int | None = None,
        reclaim_idle_ms: int | None = None,
        max_deliveries: int = 5,
        seen_ttl_s: int = 86_400,
        processed: Processed | None = None,
        ack_interval_ms: int = 100,
    ) -> None:
        if not group or any(c in group for c in "{}"):
            raise ValueError("group: a non-empty name without braces")
        if count < 1 or max_deliveries < 1:
            raise ValueError("count and max_deliveries must be at least 1")
        self.redis = redis
        self.settings = settings
        self.streams = settings.partition_streams(stream)
        self.group = group
        self.consumer = consumer or f"{group}-{socket.gethostname()}-{os.getpid()}"
        self.start = start
        self.count = count
        self.block_ms = block_ms if block_ms is not None else settings.block_ms
        # the pipeline's own NEWSFLOW_RECLAIM_IDLE_MS unless given
        self.reclaim_idle_ms = (
            reclaim_idle_ms if reclaim_idle_ms is not None else settings.reclaim_idle_ms
        )
        self.max_deliveries = max_deliveries
        self.seen_ttl_s = seen_ttl_s
        self.processed = processed
        self.ack_interval_ms = ack_interval_ms
        self._settled: list[_Delivery] = []  # bodies ended, acknowledgement not sent yet
        self._settled_since = 0.0
        self._trim_at = 0.0
        self._cluster = isinstance(redis, RedisCluster)
        self._ready = False
        # read but not handed out yet: stream, entry id, fields, deliveries before this one
        self._buffer: list[tuple[str, str, dict[str, str], int]] = []
        self._current: list[_Delivery] = []  # delivered, acknowledged when the body ends
        self._known: set[str] = set()  # article ids of the buffer already seen (one lookup)
        self._reclaim_at = 0.0
        self._turn = 0  # next partition read first (cluster: one read a partition)
        self.dead_lettered = 0
        self.skipped = 0

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        stream: str = "enriched",
        group: str,
        settings: Settings | None = None,
        **options: Any,
    ) -> Subscriber:
        """A subscriber of ``stream`` (``enriched``, ``duplicates``, ``language``, ... or a full
        stream name) for ``group``. ``url`` overrides the settings' Redis URL; ``options``
        are :class:`Subscriber`'s keyword arguments."""
        base = settings or Settings()
        if url is not None:
            base = base.model_copy(update={"redis_url": url})
        redis = connect(base.redis_dsn(), cluster=base.redis_cluster)
        return cls(redis, base, stream=stream, group=group, **options)

    def dead_letter_stream(self, stream: str) -> str:
        return f"{stream}.{self.group}.dlq"

    def seen_key(self, stream: str) -> str:
        """The article ids this group handled from ``stream`` (a sorted set scored by when),
        beside the stream: the same hash tag, the same slot."""
        return f"{stream}.{self.group}.seen"

    async def __aenter__(self) -> Subscriber:
        await self._ensure_groups()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self._settle()  # the last body ended (a break, or the loop ran out)
            await self._flush()
            await self._release()
        finally:
            await self.redis.aclose()

    def __aiter__(self) -> Subscriber:
        # A new loop: what the previous one delivered last did not end well (it raised out
        # of the loop), so it is left pending for the reclaim instead of acknowledged.
        self._current = []
        return self

    async def __anext__(self) -> ArticleEvent:
        await self._settle()
        (delivery,) = await self._deliver(1)
        return delivery.event

    def batches(self, size: int) -> _Batches:
        """Lists of up to ``size`` events (fewer when the streams have no more right now), each
        list acknowledged once the loop body that got it ends."""
        return _Batches(self, size)

    async def _ensure_groups(self) -> None:
        if not self._ready:
            for stream in self.streams:
                await ensure_group(self.redis, stream, self.group, self.start)
            self._ready = True

    async def _settle(self) -> None:
        """The last body ended: its events are acknowledged with the next group, sent when
        the oldest has waited ``ack_interval_ms``, before each read and on leaving."""
        done, self._current = self._current, []
        if not done:
            return
        for delivery in done:
            self._add_settled(delivery)
        if time.monotonic() - self._settled_since >= self.ack_interval_ms / 1000:
            await self._flush()

    async def _flush(self) -> None:
        """Acknowledge the settled events and remember their ids as seen, in one round trip
        (the seen ids first: a crash in between leaves them seen and pending, skipped later)."""
        done, self._settled = self._settled, []
        if not done:
            return
        pipe = self.redis.pipeline(transaction=False)
        now = time.time()
        trim = now >= self._trim_at
        if trim:
            self._trim_at = now + 60
        for stream in dict.fromkeys(d.stream for d in done):
            mine = [d for d in done if d.stream == stream]
            if self.seen_ttl_s > 0:
                key = self.seen_key(stream)
                pipe.zadd(key, {d.event.id: now for d in mine})
                if trim:  # ids older than seen_ttl_s are forgotten
                    pipe.zremrangebyscore(key, "-inf", now - self.seen_ttl_s)
                pipe.expire(key, self.seen_ttl_s)
            pipe.xack(stream, self.group, *[d.entry_id for d in mine])
        await pipe.execute()

    async def _release(self) -> None:
        """Hand back what was read but never given to a body: its delivery count as it was
        before the read and idle already, so any consumer of the group takes it over at once
        (XCLAIM ... IDLE RETRYCOUNT)."""
        left, self._buffer = self._buffer, []
        for stream, entry_id, _, before in left:
            await self.redis.xclaim(
                stream, self.group, self.consumer, 0, [entry_id],
                idle=self.reclaim_idle_ms, retrycount=before, justid=True,
            )  # fmt: skip

    async def _deliver(self, size: int) -> list[_Delivery]:
        """At least one and at most ``size`` new deliveries (waiting for them as long as it
        takes); entries to skip or dead-letter are settled on the way."""
        await self._ensure_groups()
        out: list[_Delivery] = []
        while not out:
            if not self._buffer:
                await self._fill()
                await self._look_up_seen()
            while self._buffer and len(out) < size:
                stream, entry_id, fields, _ = self._buffer.pop(0)
                delivery = await self._accept(stream, entry_id, fields)
                if delivery is not None:
                    if any(d.event.id == delivery.event.id for d in out):  # twice in a batch
                        self._skip(delivery)
                        continue
                    out.append(delivery)
        self._current = out
        return out

    async def _accept(self, stream: str, entry_id: str, fields: dict[str, str]) -> _Delivery | None:
        try:
            event = decode_event(fields)
        except InvalidPayload as exc:
            await self._dead_letter(stream, entry_id, fields, f"not a valid event: {exc}")
            return None
        delivery = _Delivery(stream, entry_id, event)
        if await self._already_done(event.id):
            self._skip(delivery)
            return None
        return delivery

    def _skip(self, delivery: _Delivery) -> None:
        """A redelivered article: acknowledged with the next group, no body sees it."""
        self.skipped += 1
        self._add_settled(delivery)

    def _add_settled(self, delivery: _Delivery) -> None:
        if not self._settled:
            self._settled_since = time.monotonic()
        self._settled.append(delivery)

    async def _look_up_seen(self) -> None:
        """Which of the buffer's article ids are seen already: one round trip a read."""
        self._known = set()
        if self.seen_ttl_s <= 0 or not self._buffer:
            return
        by_stream: dict[str, list[str]] = {}
        for stream, _, fields, _ in self._buffer:
            if fields.get("id"):
                by_stream.setdefault(stream, []).append(fields["id"])
        oldest = time.time() - self.seen_ttl_s
        for stream, ids in by_stream.items():
            ids = list(dict.fromkeys(ids))
            scores = await self.redis.zmscore(self.seen_key(stream), ids)
            self._known |= {i for i, t in zip(ids, scores, strict=True) if t and t >= oldest}

    async def _already_done(self, article_id: str) -> bool:
        if self.processed is not None and await self.processed(article_id):
            return True
        if self.seen_ttl_s > 0 and any(d.event.id == article_id for d in self._settled):
            return True  # handled a moment ago, its seen id not sent yet
        return article_id in self._known

    async def _fill(self) -> None:
        await self._flush()  # a read may wait: nothing handled stays unacknowledged meanwhile
        if time.monotonic() >= self._reclaim_at:
            self._reclaim_at = time.monotonic() + max(self.reclaim_idle_ms / 4000, 0.05)
            for stream in self.streams:
                await self._reclaim(stream)
            if self._buffer:
                return
        if self._cluster and len(self.streams) > 1:
            # One slot a command on a cluster: each partition in turn, blocking on the last.
            order = self.streams[self._turn :] + self.streams[: self._turn]
            self._turn = (self._turn + 1) % len(self.streams)
            for i, stream in enumerate(order):
                block = self.block_ms if i == len(order) - 1 else None
                await self._read([stream], block)
                if self._buffer:
                    return
            return
        await self._read(self.streams, self.block_ms)

    async def _read(self, streams: Sequence[str], block: int | None) -> None:
        reply: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(streams, ">"),
            count=self.count,
            block=block,
        )
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            for raw_id, raw_fields in entries:
                self._buffer.append((stream, as_text(raw_id), decode_fields(raw_fields), 0))

    async def _reclaim(self, stream: str) -> None:
        """Take over entries the group's consumers left pending too long; those delivered
        ``max_deliveries`` times already go to the dead-letter stream instead, and those
        deleted from the stream meanwhile are acknowledged."""
        claimed = await claim_idle(
            self.redis, stream, self.group, self.consumer,
            min_idle_ms=self.reclaim_idle_ms, count=self.count,
        )  # fmt: skip
        if claimed.deleted:
            await self.redis.xack(stream, self.group, *claimed.deleted)
        for entry in claimed.entries:
            # XAUTOCLAIM counted this delivery too
            delivered = claimed.deliveries.get(entry.entry_id, 1) - 1
            if delivered >= self.max_deliveries:
                reason = f"delivered {delivered} times without its handler finishing"
                await self._dead_letter(stream, entry.entry_id, entry.fields, reason)
            else:
                self._buffer.append((stream, entry.entry_id, entry.fields, delivered))

    async def _dead_letter(
        self, stream: str, entry_id: str, fields: dict[str, str], reason: str
    ) -> None:
        letter = {
            "reason": reason,
            "stream": stream,
            "group": self.group,
            "entry_id": entry_id,
            "fields": json.dumps(fields, ensure_ascii=False),
        }
        pipe = self.redis.pipeline(transaction=True)  # one slot: the letter beside its stream
        pipe.xadd(self.dead_letter_stream(stream), letter)  # type: ignore[arg-type]
        pipe.xack(stream, self.group, entry_id)
        await pipe.execute()
        self.dead_lettered += 1


class _Batches:
    def __init__(self, subscriber: Subscriber, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.subscriber = subscriber
        self.size = size

    def __aiter__(self) -> _Batches:
        self.subscriber._current = []
        return self

    async def __anext__(self) -> list[ArticleEvent]:
        sub = self.subscriber
        await sub._settle()
        return [d.event for d in await sub._deliver(self.size)]


class SyncSubscriber:
    """:class:`Subscriber` for synchronous code (scripts, notebooks without a running loop):
    the same options and guarantees, on an event loop of its own.

    ```python
    with SyncSubscriber.connect(url, group="my-script") as sub:
        for event in sub:
            print(event.id)
    ```
    """

    def __init__(self, subscriber: Subscriber, loop: asyncio.AbstractEventLoop) -> None:
        self.subscriber = subscriber
        self._loop = loop

    @classmethod
    def connect(cls, url: str | None = None, **options: Any) -> SyncSubscriber:
        """:meth:`Subscriber.connect`'s arguments (``group`` is required)."""
        loop = asyncio.new_event_loop()
        try:
            subscriber = Subscriber.connect(url, **options)
        except Exception:
            loop.close()
            raise
        return cls(subscriber, loop)

    def __enter__(self) -> SyncSubscriber:
        self._loop.run_until_complete(self.subscriber.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._loop.run_until_complete(self.subscriber.__aexit__(exc_type, exc, tb))
        finally:
            self._loop.close()

    def __iter__(self) -> SyncSubscriber:
        self.subscriber.__aiter__()
        return self

    def __next__(self) -> ArticleEvent:
        return self._loop.run_until_complete(self.subscriber.__anext__())

    def batches(self, size: int) -> Iterator[list[ArticleEvent]]:
        """Lists of up to ``size`` events, as :meth:`Subscriber.batches`."""
        batches = self.subscriber.batches(size).__aiter__()
        while True:
            yield self._loop.run_until_complete(batches.__anext__())
