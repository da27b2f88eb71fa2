"""The CLI's Redis-facing commands (publish, tail, status) through typer, on a real Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner

from newsflow.cli.main import app
from newsflow.shared.events import ArticleEvent
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.settings import Settings
from newsflow.shared.wire import decode_fields, encode_event


def entries(redis: SyncRedis, stream: str) -> list[tuple[str, dict[str, str]]]:
    return [(eid.decode(), decode_fields(raw)) for eid, raw in redis.xrange(stream)]


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[SyncRedis]:
    client = SyncRedis.from_url(redis_url)
    yield client
    client.close()


def _env(settings: Settings) -> dict[str, str]:
    return {
        "NEWSFLOW_REDIS_URL": settings.redis_url,
        "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
        "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_publish_files_reports_and_dead_letters_rejects(
    tmp_path: Path, sync_redis: SyncRedis, settings: Settings, runner: CliRunner
) -> None:
    (tmp_path / "batch.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"id": "n1", "title": "One", "text": "First article."}),
                json.dumps({"id": "n2", "title": "Two", "text": ""}),
                "{not json",
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "note-3.txt").write_text("Title line\nBody of the note.\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["publish", str(tmp_path / "batch.jsonl"), str(tmp_path / "note-3.txt")],
        env=_env(settings),
    )
    assert result.exit_code == 0, result.output
    assert "published 2" in result.output and "rejected 2" in result.output
    assert "text is empty" in result.output and "invalid JSON" in result.output

    raw = entries(sync_redis, settings.streams.raw)
    assert [json.loads(f["article"])["id"] for _, f in raw] == ["n1", "note-3"]
    dlq = [json.loads(f["event"]) for _, f in entries(sync_redis, settings.streams.dlq)]
    assert [d["stage"] for d in dlq] == ["publish", "publish"]
    assert dlq[0]["original_id"].endswith("batch.jsonl:2")
    assert json.loads(dlq[0]["payload"]["article"])["id"] == "n2"


async def test_publisher_python_api(redis: Redis, settings: Settings) -> None:
    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish(
            [{"title": "A", "text": "Alpha", "url": "https://e.com/a?utm_source=x"}, {"text": ""}]
        )
    assert report.published == 1 and len(report.rejected) == 1
    assert report.published_ids[0].startswith("u-")
    assert await redis.xlen(settings.streams.dlq) == 1


def test_tail_json_and_status(sync_redis: SyncRedis, settings: Settings, runner: CliRunner) -> None:
    for i in range(3):
        sync_redis.xadd(
            settings.streams.enriched,
            encode_event(ArticleEvent(id=f"e{i}", text="x")),  # type: ignore[arg-type]
        )
    sync_redis.xgroup_create(settings.streams.enriched, "subscriber", id="0")
    sync_redis.xreadgroup("subscriber", "me", {settings.streams.enriched: ">"}, count=1)
    # what a stage's replicas count as they go (shared.rates): 120 entries this minute
    sync_redis.incrby(settings.key("rate", "subscriber", str(int(time.time() // 60))), 120)

    result = runner.invoke(
        app, ["tail", "enriched", "--from-start", "--count", "2", "--json"], env=_env(settings)
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [e["id"] for e in lines] == ["e0", "e1"]

    result = runner.invoke(app, ["tail", "dlq", "--timeout", "0.3"], env=_env(settings))
    assert result.exit_code == 0 and result.output == ""

    result = runner.invoke(app, ["status", "--json"], env=_env(settings))
    assert result.exit_code == 0, result.output
    status = {s["name"]: s for s in json.loads(result.output)["streams"]}
    enriched = status[settings.streams.enriched]
    assert enriched["length"] == 3
    (group,) = enriched["groups"]
    assert (group["name"], group["pending"], group["lag"]) == ("subscriber", 1, 2)
    assert 0 <= group["oldest_pending_age_s"] < 60
    assert group["per_second_last_minute"] == pytest.approx(2.0, abs=0.1)
    (consumer,) = group["consumer_list"]
    assert (consumer["name"], consumer["pending"]) == ("me", 1) and consumer["idle_s"] >= 0
    assert status[settings.streams.dlq]["length"] == 0

    result = runner.invoke(app, ["status"], env=_env(settings))
    assert result.exit_code == 0 and "DLQ size: 0" in result.output
    assert "│ me " in result.output and "oldest" in result.output


def test_bad_configuration_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["status"], env={"NEWSFLOW_REDIS_URL": "http://nope"})
    assert result.exit_code == 2
    assert "invalid configuration" in result.output


def _letter(stage: str, stream: str, payload: dict[str, str], n: int) -> dict[str, str]:
    from newsflow.shared.events import DeadLetter
    from newsflow.shared.wire import encode_dead_letter

    return encode_dead_letter(
        DeadLetter(
            stage=stage,
            reason=f"reason {n}",
            error_type="InvalidPayload",
            service=stage,
            consumer="c",
            attempts=None if n else 5,
            original_stream=stream,
            original_id=f"1-{n}",
            article_id=f"a{n}",
            payload=payload,
        )
    )


def test_dlq_list_show_replay(sync_redis: SyncRedis, settings: Settings, runner: CliRunner) -> None:
    streams = settings.streams
    letters = [
        _letter("dedup", streams.raw, {"article": '{"text": "fixed now"}'}, 0),
        _letter("language", streams.unique, {"id": "a1", "event": "{}"}, 1),
        _letter("publish", streams.raw, {"error": "invalid JSON"}, 2),
    ]
    ids = [sync_redis.xadd(streams.dlq, f).decode() for f in letters]  # type: ignore[arg-type]
    env = _env(settings)

    listed = runner.invoke(app, ["dlq", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [r["entry_id"] for r in rows] == ids
    assert rows[0]["attempts"] == 5 and rows[0]["payload"] == {"article": '{"text": "fixed now"}'}
    table = runner.invoke(app, ["dlq", "list", "--stage", "language"], env=env)
    assert "reason 1" in table.output and "reason 0" not in table.output

    shown = runner.invoke(app, ["dlq", "show", ids[1]], env=env)
    assert shown.exit_code == 0 and json.loads(shown.output)["original_stream"] == streams.unique
    missing = runner.invoke(app, ["dlq", "show", "0-1"], env=env)
    assert missing.exit_code == 1

    assert runner.invoke(app, ["dlq", "replay"], env=env).exit_code == 2, "must say which"
    replayed = runner.invoke(app, ["dlq", "replay", "--stage", "dedup"], env=env)
    assert replayed.exit_code == 0 and "replayed 1, skipped 0" in replayed.output
    assert [f for _, f in entries(sync_redis, streams.raw)] == [
        {"article": '{"text": "fixed now"}'}
    ]
    assert [eid for eid, _ in entries(sync_redis, streams.dlq)] == ids[1:]

    rest = runner.invoke(app, ["dlq", "replay", "--ids", ids[1], "--ids", ids[2]], env=env)
    assert "replayed 1, skipped 1" in rest.output
    assert "no original payload" in rest.output
    assert [f for _, f in entries(sync_redis, streams.unique)] == [{"id": "a1", "event": "{}"}]
    assert [eid for eid, _ in entries(sync_redis, streams.dlq)] == [ids[2]]


def test_cli_across_partitions(
    tmp_path: Path, sync_redis: SyncRedis, make_settings: Any, runner: CliRunner
) -> None:
    """With NEWSFLOW_PARTITIONS=3 publish routes each article by id, and tail, status and the
    dlq commands read every partition's stream."""
    settings = make_settings(partitions=3)
    env = {**_env(settings), "NEWSFLOW_PARTITIONS": "3"}
    views = settings.partition_views()
    articles = [{"id": f"p{i}", "title": f"T{i}", "text": f"Article {i}."} for i in range(12)]
    (tmp_path / "batch.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    published = runner.invoke(app, ["publish", str(tmp_path / "batch.jsonl")], env=env)
    assert published.exit_code == 0, published.output
    per_partition = [sync_redis.xlen(v.streams.raw) for v in views]
    assert sum(per_partition) == 12 and min(per_partition) > 0, per_partition
    for view in views:  # each article where partition_for says
        for _, fields in entries(sync_redis, view.streams.raw):
            article = json.loads(fields["article"])
            assert settings.partition_for(article["id"]).streams.raw == view.streams.raw

    tailed = runner.invoke(app, ["tail", "raw", "--from-start", "--count", "12", "--json"], env=env)
    assert tailed.exit_code == 0, tailed.output
    assert sorted(json.loads(line)["id"] for line in tailed.output.splitlines()) == sorted(
        a["id"] for a in articles
    )
    timed = runner.invoke(app, ["tail", "enriched", "--timeout", "0.3"], env=env)
    assert timed.exit_code == 0 and timed.output == ""

    first = sync_redis.xadd(
        views[0].streams.dlq,
        _letter("dedup", views[0].streams.raw, {"article": '{"text": "a"}'}, 0),  # type: ignore[arg-type]
        id="5-1",
    ).decode()
    second = sync_redis.xadd(
        views[2].streams.dlq,
        _letter("language", views[2].streams.unique, {"id": "a1", "event": "{}"}, 1),  # type: ignore[arg-type]
        id="5-2",
    ).decode()
    status = runner.invoke(app, ["status", "--json"], env=env)
    assert status.exit_code == 0, status.output
    names = {s["name"]: s["length"] for s in json.loads(status.output)["streams"]}
    assert len(names) == 18 and names[views[2].streams.dlq] == 1
    table = runner.invoke(app, ["status"], env=env)
    assert "DLQ size: 2 (over 3 partitions)" in table.output

    listed = runner.invoke(app, ["dlq", "list", "--json"], env=env)
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["dlq"], r["entry_id"]) for r in rows] == [
        (views[0].streams.dlq, first),
        (views[2].streams.dlq, second),
    ]
    shown = runner.invoke(app, ["dlq", "show", second], env=env)
    assert shown.exit_code == 0 and json.loads(shown.output)["stage"] == "language"
    replayed = runner.invoke(app, ["dlq", "replay", "--all"], env=env)
    assert "replayed 2, skipped 0" in replayed.output, replayed.output
    assert sync_redis.xlen(views[0].streams.dlq) == sync_redis.xlen(views[2].streams.dlq) == 0
    assert [f for _, f in entries(sync_redis, views[2].streams.unique)] == [
        {"id": "a1", "event": "{}"}
    ]
    assert sync_redis.xlen(views[0].streams.raw) == per_partition[0] + 1
