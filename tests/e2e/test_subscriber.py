"""The README's subscriber, run as a process: 1,000 enriched articles handled exactly once
across a kill -9 of it mid-run and a restart (Redis MONITOR counts every write of a result)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from newsflow.shared.events import ArticleEvent, DedupSection
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_event
from tests.e2e.conftest import ROOT
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

ARTICLES = 1000


def readme_subscriber() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- subscriber-example -->", 1)[1]
    match = re.search(r"```python\n(.*?)```", block, re.S)
    assert match, "the README's subscriber example is gone"
    code = match.group(1)
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) <= 15, "an example subscriber of 15 lines at most"
    return code


def start(code: Path, settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")},
        "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
        "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
        "NEWSFLOW_RECLAIM_IDLE_MS": "1500",  # a dead peer's entries taken over after 1.5 s
        "NEWSFLOW_BLOCK_MS": "100",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(code), settings.redis_url], env=env, stdout=out, stderr=out
        )


async def _monitor(url: str, key: str, writes: dict[str, int], ready: asyncio.Event) -> None:
    """Count every HSET of ``key`` per article id, whoever sends it."""
    client = Redis.from_url(url)
    try:
        async with client.monitor() as monitor:
            ready.set()
            async for info in monitor.listen():
                words = str(info.get("command", "")).split(" ")
                if len(words) >= 3 and words[0].upper() == "HSET" and words[1] == key:
                    writes[words[2]] = writes.get(words[2], 0) + 1
    finally:
        await client.aclose()


async def test_readme_subscriber_handles_each_article_once_across_kill_9(
    tmp_path: Path, settings: Settings
) -> None:
    group = f"app-{uuid.uuid4().hex[:8]}"
    code = tmp_path / "subscriber.py"
    code.write_text(readme_subscriber().replace("my-app", group), encoding="utf-8")
    results = f"{group}:results"
    redis = connect(settings.redis_url)
    writes: dict[str, int] = {}
    ready = asyncio.Event()
    monitor = asyncio.create_task(_monitor(settings.redis_url, results, writes, ready))
    await asyncio.wait_for(ready.wait(), 10)
    log = tmp_path / "subscriber.log"
    first = start(code, settings, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        stream = settings.streams.enriched
        published = 0

        async def publish(upto: int) -> None:
            nonlocal published
            while published < upto:  # ~1,000 a second, so the kill lands mid-run
                event = ArticleEvent(
                    id=f"s{published}",
                    text=f"Article number {published}.",
                    dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
                )
                await redis.xadd(stream, encode_event(event))  # type: ignore[arg-type]
                published += 1
                if published % 20 == 0:
                    await asyncio.sleep(0.02)

        async def handled(n: int) -> bool:
            assert first.poll() is None or second is not None, log.read_text()[-2000:]
            return int(await redis.hlen(results)) >= n

        await publish(300)
        await wait_until(lambda: handled(200), timeout=60)  # started (imports, group)
        feeder = asyncio.create_task(publish(ARTICLES))
        await wait_until(lambda: handled(400), timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = int(await redis.hlen(results))
        await feeder
        assert at_kill < ARTICLES, "the kill came too late to be mid-run"
        second = start(code, settings, log)

        async def all_done() -> bool:
            pending = int((await redis.xpending(stream, group))["pending"])
            return int(await redis.hlen(results)) == ARTICLES and pending == 0

        began = time.monotonic()
        await wait_until(all_done, timeout=90)
        recovered = time.monotonic() - began
        await wait_until(lambda: _all_counted(writes), timeout=10)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        monitor.cancel()
        await redis.delete(results)
        await redis.aclose()
    twice = {k: v for k, v in writes.items() if v != 1}
    assert not twice, f"handled more than once: {sorted(twice.items())[:10]}"
    assert set(writes) == {f"s{i}" for i in range(ARTICLES)}
    print(f"killed after {at_kill} of {ARTICLES}; the rest handled {recovered:.1f} s later")


async def _all_counted(writes: dict[str, int]) -> bool:
    return len(writes) >= ARTICLES
