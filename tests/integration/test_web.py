"""The live page against a real Redis: what a tick reads (latest articles over partitions, story
clusters, dead letters by stage, live rates), and the app's routes, health and Redis outages."""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis

from newsflow.cli.web.feed import LiveState
from newsflow.cli.web.server import create_web_app
from newsflow.shared.events import (
    ArticleEvent,
    DeadLetter,
    DedupSection,
    EntitiesSection,
    EntityItem,
)
from newsflow.shared.local_redis import free_port
from newsflow.shared.redis_streams import ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_dead_letter, encode_event
from tests.conftest import SettingsFactory
from tests.helpers import wait_until


def _enriched(article_id: str, text: str = "Clara Duvall spoke in Port Elwin.") -> ArticleEvent:
    return ArticleEvent(
        id=article_id,
        title=f"Story {article_id}",
        text=text,
        dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f", cluster_id=article_id),
        entities=EntitiesSection(
            status="ok",
            model="test@1",
            items=[EntityItem(text="Clara Duvall", label="PER", start=0, end=12)],
        ),
    )


def _duplicate(article_id: str, of: str) -> ArticleEvent:
    return ArticleEvent(
        id=article_id,
        text="copy",
        dedup=DedupSection(
            status="exact_duplicate",
            duplicate_of=of,
            similarity=1.0,
            fingerprint="f",
            cluster_id=of,
            method="content",
        ),
    )


async def _add(
    redis: Redis, settings: Settings, stream: str, event: ArticleEvent, at_ms: int | None = None
) -> None:
    """XADD to the article's partition; ``at_ms``: an explicit entry time (ids 'ms-0')."""
    name = getattr(settings.partition_for(event.id).streams, stream)
    entry_id = "*" if at_ms is None else f"{at_ms}-0"
    await redis.xadd(name, encode_event(event), id=entry_id)  # type: ignore[arg-type]


def _letter(stage: str, n: int) -> dict[str, str]:
    return encode_dead_letter(
        DeadLetter(
            stage=stage,
            reason="bad",
            error_type="InvalidPayload",
            service=stage,
            consumer="c",
            original_stream="s",
            original_id=f"{n}-0",
            payload={},
        )
    )


async def test_tick_merges_partitions_newest_first_and_keeps_a_bounded_window(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings(partitions=3)
    state = LiveState(redis, settings, keep=5)
    for i in range(4):  # entry times 1 ms apart, across the partitions
        await _add(redis, settings, "enriched", _enriched(f"a-{i}"), at_ms=1000 + i)
    await _add(redis, settings, "duplicates", _duplicate("a-0-copy", of="a-0"))
    await _add(redis, settings, "duplicates", _duplicate("a-0-edit", of="a-0"))
    snap = await state.tick()
    assert [a["id"] for a in snap["articles"]] == ["a-3", "a-2", "a-1", "a-0"]
    assert {a["id"]: a["copies"] for a in snap["articles"]}["a-0"] == 2
    assert snap["streams"]["enriched"] == 4 and snap["streams"]["duplicates"] == 2
    assert snap["new"] == {"enriched": 4, "duplicates": 2}
    marks = [s for s in snap["articles"][0]["text"] if "label" in s]
    assert marks == [{"t": "Clara Duvall", "label": "PER"}]

    story = state.story("a-0")
    assert story is not None and story["head"]["id"] == "a-0"
    assert sorted(c["id"] for c in story["copies"]) == ["a-0-copy", "a-0-edit"]
    assert state.story("nobody") is None

    snap = await state.tick()
    assert snap["new"] == {"enriched": 0, "duplicates": 0}, "nothing read twice"
    for i in range(4, 16):  # a burst larger than the window: the newest are kept
        await _add(redis, settings, "enriched", _enriched(f"a-{i}"), at_ms=1000 + i)
    snap = await state.tick()
    assert [a["id"] for a in snap["articles"]] == [f"a-{i}" for i in range(15, 10, -1)]


async def test_an_invalid_event_is_counted_not_fatal(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    state = LiveState(redis, settings)
    await redis.xadd(settings.streams.enriched, {"id": "x", "event": b'{"id": "x", "tex'})
    await _add(redis, settings, "enriched", _enriched("good"))
    snap = await state.tick()
    assert [a["id"] for a in snap["articles"]] == ["good"]
    assert snap["invalid_events"] == 1


async def test_dead_letters_by_stage_follow_new_and_removed_letters(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings(partitions=2)
    state = LiveState(redis, settings)
    dlq0, dlq1 = settings.partition_streams("dlq")
    ids = [await redis.xadd(dlq0, _letter("dedup", n)) for n in range(3)]  # type: ignore[arg-type]
    await redis.xadd(dlq1, _letter("entity", 9))  # type: ignore[arg-type]
    snap = await state.tick()
    assert snap["dlq"] == {"total": 4, "by_stage": {"dedup": 3, "entity": 1}, "counted": 4}
    await redis.xadd(dlq1, _letter("language", 10))  # type: ignore[arg-type]
    snap = await state.tick()
    assert snap["dlq"]["by_stage"] == {"dedup": 3, "entity": 1, "language": 1}
    await redis.xdel(dlq0, ids[0], ids[1])  # replayed: removed from the DLQ
    await redis.xadd(dlq0, _letter("entity", 11))  # type: ignore[arg-type]
    await ensure_group(redis, settings.partition_streams("enriched")[1], "my-app")
    await redis.xadd(f"{settings.partition_streams('enriched')[1]}.my-app.dlq", {"x": "1"})
    snap = await state.tick()
    dead = {g["group"]: g["dead_letters"] for g in snap["groups"]}
    assert dead == {"my-app": 1}, "a subscriber's own dead-letter stream"
    assert snap["dlq"] == {
        "total": 4, "by_stage": {"dedup": 1, "entity": 2, "language": 1}, "counted": 4,
    }  # fmt: skip


async def test_group_rows_show_lag_pending_and_a_live_rate(
    redis: Redis, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    state = LiveState(redis, settings)
    raw, group = settings.streams.raw, settings.group("dedup")
    await ensure_group(redis, raw, group)
    for n in range(30):
        await redis.xadd(raw, {"n": str(n)})

    def row(snap: dict[str, Any]) -> dict[str, Any]:
        (found,) = [g for g in snap["groups"] if g["group"] == group]
        return found

    first = row(await state.tick())
    assert (first["stage"], first["lag"], first["pending"]) == ("dedup", 30, 0)
    read = await redis.xreadgroup(group, "c1", {raw: ">"}, count=20)
    await redis.xack(raw, group, *[eid for eid, _ in read[0][1][:15]])

    async def moved() -> bool:
        current = row(await state.tick())
        return (current["per_second_now"] or 0) > 0

    await wait_until(moved, timeout=10, what="a live rate from the acknowledgements")
    now = row(state.snapshot)
    assert (now["lag"], now["pending"], now["consumers"]) == (10, 5, 1)


async def test_app_serves_the_page_the_api_and_its_health(make_settings: SettingsFactory) -> None:
    settings = make_settings(web_interval_s=0.1)
    app = create_web_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:

            async def healthy() -> bool:
                return (await client.get("/healthz")).status_code == 200

            await wait_until(healthy, timeout=10, what="the first tick")
            page = await client.get("/")
            assert page.status_code == 200 and 'id="groups"' in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
            script = await client.get("/static/app.js")
            assert script.status_code == 200 and "EventSource" in script.text
            metrics = (await client.get("/api/metrics")).json()
            assert metrics["error"] is None and "articles" not in metrics
            assert set(metrics["streams"]) == {"raw", "unique", "duplicates", "language",
                                               "enriched", "dlq"}  # fmt: skip
            assert (await client.get("/api/articles")).json()["articles"] == []
            missing = await client.get("/api/story/nobody")
            assert missing.status_code == 404
            assert (await client.post("/api/metrics")).status_code == 405, "read-only"


async def test_app_survives_redis_being_unreachable(make_settings: SettingsFactory) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", web_interval_s=0.1)
    app = create_web_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:

            async def reported() -> bool:
                return (await client.get("/api/metrics")).json()["error"] is not None

            await wait_until(reported, timeout=30, what="the outage on the page")
            assert (await client.get("/healthz")).status_code == 503
            assert (await client.get("/")).status_code == 200, "the page itself still loads"
