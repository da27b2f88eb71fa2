"""End to end: the three services as real processes (compose's commands), fed through the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from newsflow.cli.services import SERVICES, local_argv
from newsflow.shared.settings import Settings
from tests.e2e.conftest import ROOT, Processes, compose_data, service_env
from tests.helpers import entries, events, wait_for_len

ENGLISH = (
    "The harbour authority of Port Elwin opened a new ferry terminal on Friday. "
    "Mayor Clara Duvall said the terminal would serve two million passengers a year, "
    "and the Elwin Transit Authority will add three routes to the islands."
)
FRENCH = (
    "La mairie de Lyon a présenté jeudi un plan pour rénover les écoles du quartier de la "
    "Croix-Rousse. Selon l'adjointe Camille Bernard, les travaux dureront trois ans."
)


def _write_inputs(tmp_path: Path) -> list[str]:
    jsonl = tmp_path / "articles.jsonl"
    rows = [
        {"id": "en-1", "title": "New ferry terminal", "text": "خبرگزاری بندر\n" + ENGLISH,
         "url": "https://example.org/ferry?utm_source=rss", "source": "Elwin Herald",
         "published_at": "2026-11-20T10:00:00Z", "metadata": {"section": "local"}},
        {"id": "en-1-copy", "title": "FERRY TERMINAL OPENS",
         "text": "خبرگزاری بندر\n" + ENGLISH.upper()},
        {"id": "fr-1", "title": "Rénovation des écoles", "text": FRENCH, "language_hint": "fr"},
        {"id": "no-text", "title": "Only a title", "text": ""},
    ]  # fmt: skip
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    txt = tmp_path / "plain-note.txt"
    txt.write_text("Ferry news\n" + ENGLISH.replace("Friday", "Saturday") + "\n", encoding="utf-8")
    return [str(jsonl), str(txt)]


def _cli(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        local_argv(["newsflow", *args]),
        env={**os.environ, **service_env(settings)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


async def test_pipeline_end_to_end(
    tmp_path: Path, redis: Redis, settings: Settings, processes: Processes
) -> None:
    streams = settings.streams
    # Part of the input is published before any service runs (a backlog).
    published = _cli(["publish", *_write_inputs(tmp_path)], settings)
    assert published.returncode == 0, published.stderr
    assert "published 4" in published.stdout and "rejected 1" in published.stdout
    await redis.xadd(streams.raw, {"title": "flat", "text": "   "})  # invalid, from another client

    processes.start_pipeline(settings)

    await wait_for_len(redis, streams.enriched, 2, timeout=120)
    await wait_for_len(redis, streams.duplicates, 2, timeout=10)
    await wait_for_len(redis, streams.dlq, 2, timeout=10)

    enriched = {e["id"]: e for e in await events(redis, streams.enriched)}
    assert set(enriched) == {"en-1", "fr-1"}
    for event in enriched.values():
        assert event["schema_version"] == 1
        assert event["dedup"]["status"] == "unique"
        assert set(event["trace"]) == {"dedup", "language", "entity"}
        assert event["entities"]["status"] == "ok"
    en = enriched["en-1"]
    assert en["language"]["code"] == "en", "a Persian header line does not decide the language"
    assert en["url"] == "https://example.org/ferry?utm_source=rss"
    assert en["metadata"] == {"section": "local"}
    clara = next(m for m in en["entities"]["mentions"] if m["name"] == "Clara Duvall")
    assert (clara["label"], clara["count"]) == ("PER", 1)
    assert enriched["fr-1"]["language"]["code"] == "fr"
    assert enriched["fr-1"]["entities"]["model"].startswith("fr_core_news_sm")

    dup, near = await events(redis, streams.duplicates)
    assert dup["id"] == "en-1-copy" and dup["dedup"]["duplicate_of"] == "en-1"
    assert dup["dedup"]["status"] == "exact_duplicate" and dup["dedup"]["method"] == "content"
    # the .txt note is the same story with one word changed: a near duplicate
    assert near["id"] == "plain-note" and near["title"] == "Ferry news"
    assert near["dedup"]["status"] == "near_duplicate" and near["dedup"]["cluster_id"] == "en-1"
    assert 0.8 <= near["dedup"]["similarity"] < 1.0
    for d in (dup, near):
        assert "language" not in d["trace"], "duplicates never reach later stages"

    letters = [json.loads(f["event"]) for _, f in await entries(redis, streams.dlq)]
    assert {(d["stage"], d["reason"]) for d in letters} == {
        ("publish", "text: text is empty"),
        ("dedup", "text: text is empty"),
    }

    # Subscribers: `newsflow tail --json` prints the full events.
    tail = _cli(["tail", "enriched", "--from-start", "--count", "2", "--json"], settings)
    assert tail.returncode == 0, tail.stderr
    assert {json.loads(line)["id"] for line in tail.stdout.splitlines()} == set(enriched)

    status = _cli(["status", "--json"], settings)
    groups = {g["name"]: g for s in json.loads(status.stdout)["streams"] for g in s["groups"]}
    for service in SERVICES:
        group = groups[settings.group(service)]
        assert group["pending"] == 0 and group["lag"] == 0

    # compose's healthcheck command, run as compose would (inside the service's environment)
    for name in SERVICES:
        check = compose_data()["services"][name]["healthcheck"]["test"]
        assert check[0] == "CMD"
        env = {**os.environ, **processes.envs[name]}
        result = await asyncio.to_thread(
            subprocess.run, local_argv(check[1:]), env=env, capture_output=True, timeout=20
        )
        assert result.returncode == 0, result.stderr.decode()[-1000:]

    processes.stop_pipeline()
    assert "Traceback" not in processes.log("dedup")


async def test_newsflow_run_all_processes_and_stops_on_sigterm(
    redis: Redis, settings: Settings, processes: Processes
) -> None:
    proc = processes.start("run-all", local_argv(["newsflow", "run", "all"]), service_env(settings))
    await redis.xadd(
        settings.streams.raw,
        {"article": json.dumps({"id": "r1", "title": "Ferry", "text": ENGLISH})},
    )
    await wait_for_len(redis, settings.streams.enriched, 1, timeout=120)
    (event,) = await events(redis, settings.streams.enriched)
    assert event["id"] == "r1" and event["language"]["code"] == "en"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0, processes.log("run-all")[-3000:]


def test_demo_runs_on_a_private_redis() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "newsflow.cli.main", "demo", "--timeout", "150"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Started a private Redis" in out
    assert "exact_duplicate of demo-en-tram" in out
    assert "dead-lettered at publish: text: text is empty" in out
    assert "dead-lettered at dedup" in out
    assert "near_duplicate of demo-en-tram" in out
    assert "Done in" in out and "6 enriched, 2 duplicates, 2 dead letters" in out
