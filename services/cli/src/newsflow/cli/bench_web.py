"""The live page's costs: ``make bench-web``.

In one run, on a private ``redis-server`` holding a backlog of enriched events (``--events``,
news-sized: ~2,400 characters and ~25 entity spans each) and some dead letters, with
``newsflow web`` started as compose starts it (its own process):

1. the tick (what the page reads from Redis each interval), in this process: the first one
   (the window filled), a steady one (nothing new) and one with 50 new articles;
2. page loads in a real headless Chromium (``--loads`` fresh tabs, the median kept): time to
   first byte, DOMContentLoaded, load, first numbers and first articles rendered;
3. update latency: from the XADD of a new enriched article to its card in the page's DOM
   (``--updates`` articles, median and max; the page reads every ``NEWSFLOW_WEB_INTERVAL_S``);
4. what goes over the wire: the page's files, one metrics and one articles event.

Needs Debian's chromium and chromium-driver (selenium is a dev dependency)."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from newsflow.cli.services import SERVICES, ServiceGroup
from newsflow.cli.web.feed import LiveState
from newsflow.shared.events import (
    ArticleEvent,
    DeadLetter,
    DedupSection,
    EntitiesSection,
    EntityItem,
    LanguageSection,
)
from newsflow.shared.local_redis import LocalRedis, free_port
from newsflow.shared.redis_streams import connect, ensure_group
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_dead_letter, encode_event

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Debian's chromium on a machine without a way out: no background connections; no sandbox,
# since tests and benchmarks here run as root
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)  # fmt: skip
WORDS = (
    "Regierung Stadt Bahn Hafen Wahl Minister Bericht Vertrag Streik Wetter Ernte Energie "
    "Wasser Miete Steuer Gericht Bank Preis Export Weizen Kaffee Stahl Kupfer Fahrplan Ticket"
).split()
NAMES = ("Clara Duvall", "Jonas Berg", "Deutsche Bahn", "Leipzig", "Marta Ferrer", "Prag")
LABELS = {"Clara Duvall": "PER", "Jonas Berg": "PER", "Marta Ferrer": "PER",
          "Deutsche Bahn": "ORG", "Leipzig": "LOC", "Prag": "LOC"}  # fmt: skip


def chromium_available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def launch_chromium(profile_dir: Path) -> Any:
    """A headless Chromium driven by Selenium through Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def news_event(i: int, rng: random.Random) -> ArticleEvent:
    """A news-sized enriched event: ~2,400 characters, ~25 entity spans."""
    parts: list[str] = []
    items: list[EntityItem] = []
    pos = 0
    while pos < 2_400:
        name = rng.choice(NAMES)
        sentence = f"{name} " + " ".join(rng.choice(WORDS).lower() for _ in range(12)) + ". "
        items.append(EntityItem(text=name, label=LABELS[name], start=pos, end=pos + len(name)))  # type: ignore[arg-type]
        parts.append(sentence)
        pos += len(sentence)
    return ArticleEvent(
        id=f"bench-{i}",
        title=f"Bericht {i}: {rng.choice(WORDS)}",
        text="".join(parts),
        source="Bench Zeitung",
        dedup=DedupSection(
            status="unique", similarity=1.0, fingerprint="f", cluster_id=f"bench-{i}"
        ),
        language=LanguageSection(code="de", name="German", confidence=0.99, script="Latn"),
        entities=EntitiesSection(status="ok", model="de_newsflow_ner@0.1.0", items=items),
    )


async def _seed(redis: Redis, settings: Settings, events: int, letters: int) -> None:
    rng = random.Random(1)
    for start in range(0, events, 500):
        pipe = redis.pipeline(transaction=False)
        for i in range(start, min(start + 500, events)):
            pipe.xadd(settings.streams.enriched, encode_event(news_event(i, rng)))  # type: ignore[arg-type]
        await pipe.execute()
    inputs = (settings.streams.raw, settings.streams.unique, settings.streams.language)
    for stage, stream in zip(SERVICES, inputs, strict=True):  # the stages' groups, idle
        await ensure_group(redis, stream, settings.group(stage))
    for n in range(letters):
        letter = DeadLetter(stage=("dedup", "entity")[n % 2], reason="bench", error_type="X",
                            service="s", consumer="c", original_stream="s",
                            original_id=f"{n}-0", payload={})  # fmt: skip
        await redis.xadd(settings.streams.dlq, encode_dead_letter(letter))  # type: ignore[arg-type]


async def _ticks(redis: Redis, settings: Settings) -> dict[str, float]:
    state = LiveState(redis, settings)
    t = time.perf_counter()
    await state.tick()
    first = time.perf_counter() - t
    steady = []
    for _ in range(10):
        t = time.perf_counter()
        await state.tick()
        steady.append(time.perf_counter() - t)
    rng = random.Random(2)
    pipe = redis.pipeline(transaction=False)
    for i in range(50):
        pipe.xadd(settings.streams.enriched, encode_event(news_event(10_000_000 + i, rng)))  # type: ignore[arg-type]
    await pipe.execute()
    t = time.perf_counter()
    await state.tick()
    busy = time.perf_counter() - t
    return {"first": first, "steady": statistics.median(steady), "fifty_new": busy}


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def _sse_sizes(url: str) -> dict[str, int]:
    """Bytes of the first metrics and articles events of a fresh connection."""
    sizes: dict[str, int] = {}
    with urllib.request.urlopen(url, timeout=10) as response:
        event = None
        while len(sizes) < 2:
            line = response.readline().decode()
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event:
                sizes[event] = len(line.encode())
    return sizes


def _page_loads(driver: Any, url: str, loads: int) -> dict[str, float]:
    marks = (
        "const n = performance.getEntriesByType('navigation')[0];"
        "const m = (k) => {"
        " const e = performance.getEntriesByName(k)[0]; return e ? e.startTime : null; };"
        "return {ttfb: n.responseStart, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
        " metrics: m('newsflow:metrics'), articles: m('newsflow:articles')};"
    )
    runs: list[dict[str, float]] = []
    for _ in range(loads):
        driver.switch_to.new_window("tab")
        driver.get(url)
        deadline = time.monotonic() + 15
        while True:
            got = driver.execute_script(marks)
            if got["metrics"] is not None and got["articles"] is not None and got["load"] > 0:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"page did not render its data: {got}")
            time.sleep(0.02)  # polling the page for its marks
        runs.append(got)
        driver.close()
        driver.switch_to.window(driver.window_handles[0])
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _update_latency(
    driver: Any, url: str, redis_url: str, stream: str, n: int, interval_s: float
) -> list[float]:
    """Seconds from XADD to the card in the DOM, for ``n`` new articles one after another,
    each sent at a random moment of the page's reading interval."""
    import redis as sync_redis

    client = sync_redis.Redis.from_url(redis_url)
    driver.get(url)
    driver.set_script_timeout(30)
    rng = random.Random(3)
    out = []
    for i in range(n):
        event = news_event(20_000_000 + i, rng)
        driver.execute_script(
            "window.__seen = null; const id = arguments[0];"
            "new MutationObserver((_, obs) => { if (document.querySelector("
            '`article[data-id="${id}"]`)) { window.__seen = Date.now(); obs.disconnect(); } })'
            ".observe(document.getElementById('articles'), {childList: true, subtree: true});",
            event.id,
        )
        time.sleep(rng.uniform(0, interval_s))  # arrivals at random moments between two ticks
        sent = time.time()
        client.xadd(stream, encode_event(event))  # type: ignore[arg-type]
        deadline = time.monotonic() + 15
        while driver.execute_script("return window.__seen") is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{event.id} did not appear on the page")
            time.sleep(0.01)  # polling the page for the observer's answer
        out.append(driver.execute_script("return window.__seen") / 1000 - sent)
    client.close()
    return out


def _report_browser(
    driver: Any, base: str, redis_url: str, settings: Settings, args: argparse.Namespace
) -> None:
    load = _page_loads(driver, base + "/", args.loads)
    print(
        f"page load (median of {args.loads}, ms): first byte {load['ttfb']:.0f}, "
        f"DOMContentLoaded {load['dom']:.0f}, load {load['load']:.0f}, first numbers "
        f"{load['metrics']:.0f}, first articles {load['articles']:.0f}"
    )
    interval = settings.web_interval_s
    latency = _update_latency(
        driver, base + "/", redis_url, settings.streams.enriched, args.updates, interval
    )
    print(
        f"update latency XADD -> card on the page (s, {args.updates} articles sent at random "
        f"moments, interval {interval} s): median {statistics.median(latency):.2f}, "
        f"max {max(latency):.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000, help="enriched events held")
    parser.add_argument("--letters", type=int, default=500, help="dead letters held")
    parser.add_argument("--loads", type=int, default=5, help="page loads (median kept)")
    parser.add_argument("--updates", type=int, default=10, help="new articles timed")
    args = parser.parse_args(argv)
    if not chromium_available():
        print(
            "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
        )
        return 2
    with LocalRedis() as server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(redis_url=server.url)
        redis = connect(server.url)

        async def prepare() -> dict[str, float]:
            await _seed(redis, settings, args.events, args.letters)
            ticks = await _ticks(redis, settings)
            await redis.aclose()
            return ticks

        ticks = asyncio.run(prepare())
        print(f"# {args.events:,} enriched events (~2,400 chars, ~25 spans each), "
              f"{args.letters} dead letters; window {settings.web_articles} events")  # fmt: skip
        print(f"tick: first {ticks['first'] * 1000:.1f} ms, steady {ticks['steady'] * 1000:.1f} ms,"
              f" with 50 new articles {ticks['fifty_new'] * 1000:.1f} ms")  # fmt: skip
        port = free_port()
        env = {"NEWSFLOW_REDIS_URL": server.url, "NEWSFLOW_WEB_PORT": str(port),
               "NEWSFLOW_LOG_FORMAT": "json"}  # fmt: skip
        group = ServiceGroup([], env=env, log_dir=Path(tmp))  # as compose runs it
        web = group.add("web", ["newsflow", "web"])
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    _get(base + "/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline or web.poll() is not None:
                        print((Path(tmp) / "web.log").read_text()[-2000:])
                        return 1
                    time.sleep(0.1)  # waiting for the server to answer
            files = {p: len(_get(base + p)) for p in ("/", "/static/app.js", "/static/style.css")}
            sizes = _sse_sizes(base + "/api/events")
            print(f"page files: {sum(files.values()):,} bytes ({files}); SSE events: metrics "
                  f"{sizes['metrics']:,} bytes each tick, articles {sizes['articles']:,} bytes "
                  "when new ones arrive")  # fmt: skip
            driver = launch_chromium(Path(tmp) / "profile")
            try:
                _report_browser(driver, base, server.url, settings, args)
            finally:
                driver.quit()
        finally:
            group.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
