"""The shared stage runtime against a real Redis, with a tiny stage written for the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from newsflow.shared.events import ArticleEvent, InputLimits
from newsflow.shared.reclaim import Reclaimer
from newsflow.shared.redis_streams import ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.stage import Outcome, Rejected, Routed, StageContext, StageRunner
from newsflow.shared.wire import Entry, decode_fields, decode_raw_article, encode_article
from tests.helpers import entries, events


class UpperStage:
    """Routes every event to `unique`, rejects titles saying 'reject', fails on 'boom'."""

    service = "upper"

    def input_stream(self, settings: Settings) -> str:
        return settings.streams.raw

    def decode(self, entry: Entry) -> ArticleEvent:
        return decode_raw_article(entry.fields, InputLimits(max_text_bytes=100))

    async def start(self, ctx: StageContext) -> None:
        self.out = ctx.settings.streams.unique

    async def process(self, events: Sequence[ArticleEvent]) -> list[Outcome]:
        if any(e.title == "boom" for e in events):
            raise ConnectionError("model server went away")
        return [
            Rejected("title says reject", "Rejected")
            if e.title == "reject"
            else Routed(self.out, e.model_copy(update={"title": e.title.upper()}))
            for e in events
        ]

    async def close(self) -> None:
        pass


async def _read_batch(redis: Redis, settings: Settings, group: str) -> list[Entry]:
    resp = await redis.xreadgroup(group, "c1", {settings.streams.raw: ">"}, count=100)
    return [Entry(eid.decode(), decode_fields(raw)) for _, items in resp for eid, raw in items]


@pytest.fixture
async def runner(redis: Redis, settings: Settings) -> StageRunner:
    stage = UpperStage()
    ctx = StageContext(settings=settings, service="upper", consumer="c1", redis=redis)
    await stage.start(ctx)
    await ensure_group(redis, settings.streams.raw, settings.group("upper"))
    return StageRunner(stage, ctx)


async def test_batch_routes_good_items_and_dead_letters_bad_ones(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    raw = settings.streams.raw
    await redis.xadd(raw, encode_article({"id": "a", "title": "ok", "text": "fine"}))
    await redis.xadd(raw, {"article": "{oops"})
    await redis.xadd(raw, encode_article({"id": "big", "text": "x" * 101}))
    await redis.xadd(raw, encode_article({"id": "r", "title": "reject", "text": "fine"}))
    await redis.xadd(raw, encode_article({"id": "b", "title": "ok2", "text": "fine"}))
    batch = await _read_batch(redis, settings, runner.group)
    assert len(batch) == 5

    await runner.run_batch(batch)

    out = await events(redis, settings.streams.unique)
    assert [(e["id"], e["title"]) for e in out] == [("a", "OK"), ("b", "OK2")]
    letters = await entries(redis, settings.streams.dlq)
    assert len(letters) == 3
    by_reason = {f["reason"]: json.loads(f["event"]) for _, f in letters}
    invalid_json = next(v for k, v in by_reason.items() if "not valid JSON" in k)
    assert invalid_json["payload"] == {"article": "{oops"}, "the original payload is kept"
    assert invalid_json["original_stream"] == raw
    assert invalid_json["original_id"] == batch[1].entry_id
    assert invalid_json["stage"] == "upper" and invalid_json["consumer"] == "c1"
    assert any("over the limit of 100 bytes" in k for k in by_reason)
    rejected = by_reason["title says reject"]
    assert rejected["article_id"] == "r" and rejected["error_type"] == "Rejected"
    pending = await redis.xpending(raw, runner.group)
    assert pending["pending"] == 0, "every entry is acknowledged once its outputs are written"


async def test_one_failing_item_does_not_hold_back_its_batch(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    raw = settings.streams.raw
    await redis.xadd(raw, encode_article({"id": "a", "title": "ok", "text": "fine"}))
    await redis.xadd(raw, encode_article({"id": "b", "title": "boom", "text": "fine"}))
    await redis.xadd(raw, encode_article({"id": "c", "title": "ok", "text": "fine"}))
    batch = await _read_batch(redis, settings, runner.group)
    result = await runner.run_batch(batch)
    assert result.routed == 2 and result.failed == [batch[1].entry_id]
    assert [e["id"] for e in await events(redis, settings.streams.unique)] == ["a", "c"]
    assert await redis.xlen(settings.streams.dlq) == 0, "a transient error is retried, not DLQ'd"
    pending = await redis.xpending_range(raw, runner.group, "-", "+", 10)
    assert [p["message_id"].decode() for p in pending] == [batch[1].entry_id]
    record = json.loads(await redis.hget(runner.failures_key, batch[1].entry_id))
    assert record["error_type"] == "ConnectionError"


async def test_reclaim_retries_then_dead_letters_after_max_attempts(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    raw = settings.streams.raw
    await redis.xadd(raw, encode_article({"id": "p", "title": "boom", "text": "poison"}))
    await redis.xadd(raw, encode_article({"id": "q", "title": "ok", "text": "fine"}))
    await runner.run_batch(await _read_batch(redis, settings, runner.group))  # attempt 1
    reclaimer = Reclaimer(runner, min_idle_ms=1, max_attempts=3, count=10, interval_s=0.01)
    for attempt in (2, 3):
        await asyncio.sleep(0.005)
        assert await reclaimer.reclaim_once() == 1, f"attempt {attempt}"
        assert await redis.xlen(settings.streams.dlq) == 0
    await asyncio.sleep(0.005)
    assert await reclaimer.reclaim_once() == 1  # 4th delivery: over the cap -> DLQ
    (letter,) = [json.loads(f["event"]) for _, f in await entries(redis, settings.streams.dlq)]
    assert letter["attempts"] == 3
    assert letter["article_id"] == "p"
    assert letter["reason"] == "gave up after 3 attempts: ConnectionError: model server went away"
    assert json.loads(letter["payload"]["article"])["id"] == "p"
    assert (await redis.xpending(raw, runner.group))["pending"] == 0
    assert await redis.hlen(runner.failures_key) == 0
    assert [e["id"] for e in await events(redis, settings.streams.unique)] == ["q"]


async def test_entries_of_a_dead_consumer_are_reclaimed(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    raw = settings.streams.raw
    for i in range(5):
        await redis.xadd(raw, encode_article({"id": f"d{i}", "title": "ok", "text": "fine"}))
    # A consumer that read the entries and died before processing them.
    await redis.xreadgroup(runner.group, "dead-consumer", {raw: ">"}, count=10)
    reclaimer = Reclaimer(runner, min_idle_ms=1, max_attempts=5, count=2, interval_s=0.01)
    await asyncio.sleep(0.005)
    assert await reclaimer.reclaim_once() == 5
    assert [e["id"] for e in await events(redis, settings.streams.unique)] == [
        f"d{i}" for i in range(5)
    ]
    assert (await redis.xpending(raw, runner.group))["pending"] == 0


async def test_reclaim_ignores_entries_that_are_not_idle_long_enough(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    raw = settings.streams.raw
    await redis.xadd(raw, encode_article({"id": "busy", "title": "ok", "text": "fine"}))
    await redis.xreadgroup(runner.group, "busy-consumer", {raw: ">"}, count=10)
    reclaimer = Reclaimer(runner, min_idle_ms=60_000, max_attempts=5, count=10, interval_s=0.01)
    assert await reclaimer.reclaim_once() == 0
    assert (await redis.xpending(raw, runner.group))["pending"] == 1


async def test_ensure_group_starts_at_zero_and_is_idempotent(
    redis: Redis, settings: Settings
) -> None:
    stream = settings.streams.raw
    await redis.xadd(stream, {"article": "{}"})
    assert await ensure_group(redis, stream, "g") is True
    assert await ensure_group(redis, stream, "g") is False
    resp = await redis.xreadgroup("g", "c", {stream: ">"}, count=10)
    assert len(resp[0][1]) == 1, "a backlog written before the group exists is delivered"


# Busy the server for 0.8 s (scripts run alone): replies to everything queued meanwhile wait.
_BUSY_LUA = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
while true do
  local n = redis.call('TIME')
  if n[1] * 1000000 + n[2] - start > 800000 then break end
end
return 1
"""


async def test_a_timed_out_transaction_is_not_sent_twice(redis: Redis, settings: Settings) -> None:
    """The output transaction's reply can time out after Redis applied it (a busy server, a
    starved client). Sending it again would write every output twice; it must fail instead,
    and what it did stays done exactly once."""
    from newsflow.shared.redis_streams import connect

    stage = UpperStage()
    slow = connect(settings.redis_url, retry_timeouts=False, socket_timeout=0.2)
    ctx = StageContext(
        settings=settings, service="upper", consumer="c1", redis=redis, transactions=slow
    )
    await stage.start(ctx)
    await ensure_group(redis, settings.streams.raw, settings.group("upper"))
    runner = StageRunner(stage, ctx)
    for i in range(3):
        await redis.xadd(
            settings.streams.raw, encode_article({"id": f"t{i}", "title": "ok", "text": "fine"})
        )
    batch = await _read_batch(redis, settings, runner.group)
    busy = connect(settings.redis_url)
    try:
        blocker = asyncio.create_task(busy.eval(_BUSY_LUA, 0))
        await asyncio.sleep(0.05)  # ordering only: the script must be running before EXEC
        from redis.exceptions import TimeoutError as RedisTimeout

        with pytest.raises(RedisTimeout):
            await runner.run_batch(batch)
        assert await blocker == 1
        # Whether Redis still ran the abandoned transaction or dropped it with the closed
        # connection, it is all or nothing, and never twice: 3 outputs and nothing pending, or
        # no output and all 3 still pending for the reclaimer.
        outputs = await redis.xlen(settings.streams.unique)
        pending = (await redis.xpending(settings.streams.raw, runner.group))["pending"]
        assert (outputs, pending) in {(3, 0), (0, 3)}
    finally:
        await busy.aclose()
        await slow.aclose()


async def test_an_entry_taken_over_while_in_progress_comes_out_once(
    redis: Redis, settings: Settings, runner: StageRunner
) -> None:
    """The first consumer is still working when a reclaimer takes the entry over: both finish,
    but only the one whose XACK acknowledges it writes its outputs (and its dead letter)."""
    raw = settings.streams.raw
    await redis.xadd(raw, encode_article({"id": "slow", "title": "ok", "text": "fine"}))
    await redis.xadd(raw, encode_article({"id": "bad", "title": "reject", "text": "fine"}))
    first = await _read_batch(redis, settings, runner.group)
    # another replica's reclaimer claims both while c1 still holds them
    claimed = await redis.xclaim(raw, runner.group, "c2", 0, [e.entry_id for e in first])
    taken = [Entry(eid.decode(), decode_fields(f)) for eid, f in claimed]
    other = StageRunner(runner.stage, StageContext(settings, "upper", "c2", redis))
    done_second = await other.run_batch(taken)
    done_first = await runner.run_batch(first)

    assert (done_second.routed, done_second.dead_lettered) == (1, 1)
    assert (done_first.routed, done_first.dead_lettered) == (0, 0)
    out = await events(redis, settings.streams.unique)
    assert [e["id"] for e in out] == ["slow"]
    assert len(await entries(redis, settings.streams.dlq)) == 1
    pending = await redis.xpending(raw, runner.group)
    assert pending["pending"] == 0
