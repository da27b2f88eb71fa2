"""The live page in a real headless Chromium: the three services and `newsflow web` run as
compose runs them; while articles flow the page's numbers move, the latest articles appear with
exactly the entity spans the pipeline found highlighted, and a story link opens its copies."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from newsflow.cli.services import local_argv
from newsflow.shared.local_redis import free_port
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.settings import Settings
from tests.e2e.conftest import ROOT, Processes, compose_data
from tests.helpers import events, http_get, wait_for_len, wait_until

WORDS = (
    "harbour council tram budget river school winter market bridge festival station museum "
    "library hospital airport stadium factory orchard vineyard ferry tunnel highway park "
    "election mayor minister report contract strike weather storm harvest energy water "
    "housing rent tax police court trial bank price export import wheat coffee steel copper "
    "railway timetable ticket passenger cyclist lane square tower castle cathedral garden"
).split()
PEOPLE = ("Clara Duvall", "Marta Ferrer", "Julien Marchand", "Jonas Berg", "Emma Lindqvist")


def _article(i: int, rng: random.Random) -> dict[str, Any]:
    person = PEOPLE[i % len(PEOPLE)]
    body = " ".join(rng.choice(WORDS) for _ in range(60))
    return {
        "id": f"web-{i}",
        "title": f"{person} speaks about the {rng.choice(WORDS)} plan",
        "text": f"{person} said on Monday that the city would act. {body.capitalize()}.",
        "source": "Test Gazette",
    }


async def _publish_slowly(settings: Settings, articles: list[dict[str, Any]], pause: float) -> None:
    async with ArticlePublisher.connect(settings) as pub:
        for start in range(0, len(articles), 5):
            await pub.publish(articles[start : start + 5])
            await asyncio.sleep(pause)  # a trickle, so the page has something to follow


async def test_live_page_follows_a_running_pipeline(
    settings: Settings, redis: Redis, processes: Processes, browser: Any
) -> None:

    processes.start_pipeline(settings)
    port = free_port()
    processes.start_compose_service("web", settings, {"NEWSFLOW_WEB_PORT": str(port)})
    base = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        return (await asyncio.to_thread(http_get, f"{base}/healthz"))[0] == 200

    await wait_until(healthy, timeout=30, what="newsflow web's /healthz")
    check = compose_data()["services"]["web"]["healthcheck"]["test"]  # as compose runs it
    assert check[0] == "CMD"
    env = {**os.environ, **processes.envs["web"], "NEWSFLOW_WEB_PORT": str(port)}
    result = await asyncio.to_thread(
        subprocess.run, local_argv(check[1:]), env=env, capture_output=True, timeout=20
    )
    assert result.returncode == 0, result.stderr.decode()[-1000:]
    rng = random.Random(7)
    first = [_article(i, rng) for i in range(3)]
    await _publish_slowly(settings, first, 0)
    await wait_for_len(redis, settings.streams.enriched, 3, timeout=120)  # models loaded

    browser.get(base + "/")

    # The page re-renders at every tick: read it in one script each time, never by element
    def texts(css: str) -> list[str]:
        script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)"
        return list(browser.execute_script(script, css))

    async def shown(css: str, want: str | None = None) -> bool:
        found = texts(css)
        return bool(found) and (want is None or any(want in f for f in found))

    await wait_until(lambda: shown("#groups tr.stage"), timeout=10, what="the stage rows")
    stages = browser.execute_script(
        "return [...document.querySelectorAll('#groups tr.stage')].map((r) => r.dataset.stage)"
    )
    assert stages == ["dedup", "language", "entity"]
    timing = browser.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "const m = performance.getEntriesByName('newsflow:metrics')[0];"
        "return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd, data: m && m.startTime};"
    )
    print(f"page: DOMContentLoaded {timing['dom']:.0f} ms, load {timing['load']:.0f} ms, "
          f"first numbers {timing['data']:.0f} ms")  # fmt: skip
    assert timing["data"] is not None

    # Articles flow: the enriched count on the page climbs, and a stage's live rate shows.
    more = [_article(i, rng) for i in range(3, 43)]
    more.append({**more[-2], "id": "web-41-copy"})  # an exact copy: a story with one copy
    feeder = asyncio.create_task(_publish_slowly(settings, more, 0.5))
    seen_counts: set[str] = set()
    rates: set[str] = set()

    async def moving() -> bool:
        seen_counts.update(texts("#len-enriched"))
        rates.update(texts("#groups tr.stage .rate-now"))
        return len(seen_counts) >= 4 and any(r not in {"0.0", "–"} for r in rates)

    await wait_until(moving, timeout=60, interval=0.2, what="the page's numbers to move")
    await feeder
    await wait_for_len(redis, settings.streams.enriched, 43, timeout=60)
    await wait_until(lambda: shown("#len-enriched", "43"), timeout=10, what="all 43 enriched")

    # The newest card highlights exactly the spans the pipeline found in its text.
    newest = (await events(redis, settings.streams.enriched))[-1]
    card = f'article[data-id="{newest["id"]}"]'
    await wait_until(lambda: shown(card), timeout=10, what="the newest article's card")
    found = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".map((m) => [m.textContent, m.dataset.label])",
        f"{card} p.text mark.ent",
    )
    visible = [i for i in newest["entities"]["items"] if i["field"] == "text" and i["end"] <= 1200]
    assert found == [[i["text"], i["label"]] for i in sorted(visible, key=lambda i: i["start"])]
    assert any(label == "PER" for _, label in found), found

    # The copied article's story link counts its copy and opens the cluster with it.
    link = 'article[data-id="web-41"] a.story-link'
    await wait_until(lambda: shown(link, "1 copy"), timeout=30, what="the story link's copy")
    browser.execute_script("document.querySelector(arguments[0]).click()", link)
    await wait_until(lambda: shown("#story article.duplicate", "web-41-copy"), timeout=10,
                     what="the story's copy")  # fmt: skip
    assert texts("#story-id") == ["web-41"]

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    log = processes.log("web")
    assert "Clara Duvall" not in log and "speaks about" not in log, "article text in the log"
    assert all(json.loads(line).get("event") for line in log.splitlines() if line.startswith("{"))
    assert processes.stop("web") == 0
    processes.stop_pipeline()


def _start_demo(port: int, out: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    with out.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli.main", "demo", "--web", "--timeout", "150"],
            env={**env, "NEWSFLOW_WEB_PORT": str(port), "COLUMNS": "200"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


async def test_demo_with_the_live_page(browser: Any, tmp_path: Path) -> None:
    """`newsflow demo --web`: the page shows the demo's articles and stays up until Ctrl-C."""
    from selenium.webdriver.common.by import By

    port = free_port()
    out = tmp_path / "demo.out"
    proc = _start_demo(port, out)
    try:

        async def results_printed() -> bool:
            assert proc.poll() is None, out.read_text()[-3000:]
            return "Ctrl-C stops them" in out.read_text()

        await wait_until(results_printed, timeout=180, interval=0.2, what="the demo's results")
        assert "6 enriched, 2 duplicates, 2 dead letters" in out.read_text()
        browser.get(f"http://127.0.0.1:{port}/")

        async def six_cards() -> bool:
            return len(browser.find_elements(By.CSS_SELECTOR, "#articles article")) == 6

        await wait_until(six_cards, timeout=15, what="the demo's six articles on the page")
        link = browser.find_element(By.CSS_SELECTOR, 'article[data-id="demo-en-tram"] .story-link')
        assert link.text == "story: 2 copies"
        dlq = browser.find_element(By.ID, "len-dlq").text
        assert dlq == "2", dlq
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, out.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
