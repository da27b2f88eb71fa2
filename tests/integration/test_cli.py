"""The CLI's Redis-facing commands (publish, tail, status) through typer, on a real Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from newsflow.cli.main import app
from newsflow.shared.events import ArticleEvent
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.settings import Settings
from newsflow.shared.wire import decode_fields, encode_event
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner


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
    assert status[settings.streams.dlq]["length"] == 0

    result = runner.invoke(app, ["status"], env=_env(settings))
    assert result.exit_code == 0 and "DLQ size: 0" in result.output


def test_bad_configuration_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["status"], env={"NEWSFLOW_REDIS_URL": "http://nope"})
    assert result.exit_code == 2
    assert "invalid configuration" in result.output
