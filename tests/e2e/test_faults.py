"""Fault tests: services killed with SIGKILL mid-run, Redis restarted and flushed mid-run.

Real processes (compose's commands), real Redis. Every article id published must come out on
articles.enriched or articles.duplicates: nothing lost. Figures are printed (run with -s).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsflow.cli.services import SERVICES
from newsflow.shared.local_redis import LocalRedis, find_redis_server
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_article
from tests.conftest import SettingsFactory
from tests.e2e.conftest import Processes, service_env
from tests.helpers import entries_added, wait_for_added, wait_for_len, wait_until

pytestmark = pytest.mark.faults

FAST_RECLAIM = {
    "NEWSFLOW_RECLAIM_IDLE_MS": "2000",
    "NEWSFLOW_RECLAIM_INTERVAL_MS": "300",
    "NEWSFLOW_BATCH_SIZE": "16",
    "NEWSFLOW_TRIM_INTERVAL_S": "1",
    "NEWSFLOW_LOG_LEVEL": "WARNING",
}

_CITIES = ["Port Elwin", "Marlow", "Castleford", "Rivenby", "Ashgrove", "Northam", "Kelby"]
_THINGS = ["ferries", "schools", "bridges", "libraries", "tram lines", "clinics", "parks"]
_PEOPLE = ["Clara Duvall", "Tom Okafor", "Ines Varga", "Peter Holm", "Lena Marsh"]


def article(i: int) -> dict[str, str]:
    rng = random.Random(i)
    city, things, person = rng.choice(_CITIES), rng.choice(_THINGS), rng.choice(_PEOPLE)
    text = (
        f"Report {i}: the council of {city} approved {rng.randint(2, 90)} new {things} on "
        f"{rng.choice(['Monday', 'Tuesday', 'Friday'])}. {person} said the plan number {i} "
        f"would cost {rng.randint(1, 900)} million and take {rng.randint(1, 9)} years."
    )
    return {"id": f"k{i}", "title": f"{city} plans {things}", "text": text}


async def publish_paced(
    url: str, settings: Settings, ids: range, *, chunk: int = 50, pause: float = 0.05
) -> None:
    """Publish articles in chunks; during a Redis outage, retry the chunk until it is back."""
    redis = connect(url)
    try:
        numbers = list(ids)
        for start in range(0, len(numbers), chunk):
            part = numbers[start : start + chunk]
            while True:
                try:
                    pipe = redis.pipeline(transaction=True)
                    for i in part:
                        pipe.xadd(settings.streams.raw, encode_article(article(i)))  # type: ignore[arg-type]
                    await pipe.execute()
                    break
                except (RedisConnectionError, RedisTimeoutError, OSError):
                    await asyncio.sleep(0.2)
            await asyncio.sleep(pause)
    finally:
        await redis.aclose()


async def seen_ids(redis: Redis, settings: Settings) -> tuple[set[str], int]:
    """Distinct article ids on enriched + duplicates, and the number of entries there."""
    ids: set[str] = set()
    total = 0
    for stream in (settings.streams.enriched, settings.streams.duplicates):
        last = "-"
        while True:
            batch = await redis.xrange(stream, min=last, count=1000)
            if last != "-":
                batch = batch[1:]
            if not batch:
                break
            for _entry_id, fields in batch:
                ids.add(fields[b"id"].decode())
                total += 1
            last = batch[-1][0].decode()
    return ids, total


async def wait_all_out(redis: Redis, settings: Settings, want: set[str], timeout: float) -> int:
    async def complete() -> bool:
        ids, _ = await seen_ids(redis, settings)
        return want <= ids

    try:
        await wait_until(complete, timeout=timeout, interval=0.5, what="every article out")
    except AssertionError:
        ids, _ = await seen_ids(redis, settings)
        missing = sorted(want - ids)
        raise AssertionError(f"{len(missing)} lost, e.g. {missing[:10]}") from None
    _, total = await seen_ids(redis, settings)
    return total


def kill9(processes: Processes, name: str) -> None:
    proc = processes.procs[name]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def test_kill9_each_service_mid_run_loses_nothing(
    redis: Redis, settings: Settings, processes: Processes
) -> None:
    n = 2000
    env = {**FAST_RECLAIM, **service_env(settings)}
    # language keeps its consumer name across the restart; dedup and entity get new ones.
    names = {"dedup": None, "language": "language-fixed", "entity": None}

    def start(name: str) -> None:
        extra = {"NEWSFLOW_CONSUMER_NAME": names[name]} if names[name] else {}
        processes.start_compose_service(name, settings, {**env, **extra})

    for name in SERVICES:
        start(name)
    publisher = asyncio.create_task(publish_paced(settings.redis_url, settings, range(n)))

    recovery: dict[str, float] = {}
    for name, stream, at in (
        ("dedup", settings.streams.unique, 300),
        ("language", settings.streams.language, 700),
        ("entity", settings.streams.enriched, 1000),
    ):
        # Counted as entries written, not XLEN: the next stage trims what it has read (the
        # trim interval is 1 s here), which could take XLEN below its value at the kill.
        await wait_for_added(redis, stream, at, timeout=120)
        kill9(processes, name)
        before = await entries_added(redis, stream)
        start(name)
        t0 = time.monotonic()
        await wait_for_added(redis, stream, before + 1, timeout=120)
        recovery[name] = time.monotonic() - t0

    await publisher
    total = await wait_all_out(redis, settings, {f"k{i}" for i in range(n)}, timeout=240)

    async def drained() -> bool:
        pending = 0
        for service, stream in (
            ("dedup", settings.streams.raw),
            ("language", settings.streams.unique),
            ("entity", settings.streams.language),
        ):
            pending += (await redis.xpending(stream, settings.group(service)))["pending"]
        return pending == 0

    await wait_until(drained, timeout=60, what="no entry left pending")
    dlq = int(await redis.xlen(settings.streams.dlq))
    print(
        f"\nkill -9 test: published {n}, lost 0, entries out {total}, "
        f"redelivered {total - n}, dlq {dlq}, "
        + ", ".join(f"{k} first output {v:.1f}s after restart" for k, v in recovery.items())
    )
    assert dlq == 0
    processes.stop_pipeline()


@pytest.fixture
async def aof_redis() -> AsyncIterator[LocalRedis]:
    binary = find_redis_server()
    assert binary, "redis-server is needed for the restart test"
    server = LocalRedis(binary, extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_restart_mid_run_loses_nothing(
    aof_redis: LocalRedis, make_settings: SettingsFactory, processes: Processes
) -> None:
    settings = make_settings(redis_url=aof_redis.url)
    redis = connect(aof_redis.url)
    n = 1000
    try:
        env = {**FAST_RECLAIM, **service_env(settings)}
        processes.start_pipeline(settings, env)
        publisher = asyncio.create_task(publish_paced(aof_redis.url, settings, range(n)))
        await wait_for_len(redis, settings.streams.enriched, 200, timeout=120)
        t0 = time.monotonic()
        await asyncio.to_thread(aof_redis.restart)
        down = time.monotonic() - t0
        before = int(await redis.xlen(settings.streams.enriched))
        t1 = time.monotonic()
        await wait_for_len(redis, settings.streams.enriched, before + 1, timeout=60)
        recovered = time.monotonic() - t1
        await publisher
        total = await wait_all_out(redis, settings, {f"k{i}" for i in range(n)}, timeout=180)
        print(
            f"\nRedis restart test: published {n}, lost 0, entries out {total}, "
            f"redelivered {total - n}, Redis down {down:.1f}s, "
            f"first enriched output {recovered:.1f}s after it was back"
        )
        assert all(processes.alive().values()), "services survive a Redis restart"
        processes.stop_pipeline()
    finally:
        await redis.aclose()


async def test_flushall_mid_run_services_recover(
    make_settings: SettingsFactory, processes: Processes
) -> None:
    server = LocalRedis(find_redis_server())  # a server of its own: this test flushes it
    server.start()
    settings = make_settings(redis_url=server.url)
    client = connect(server.url)
    try:
        env = {**FAST_RECLAIM, **service_env(settings)}
        processes.start_pipeline(settings, env)
        await publish_paced(server.url, settings, range(100))
        await wait_all_out(client, settings, {f"k{i}" for i in range(100)}, timeout=120)
        await client.flushall()
        t0 = time.monotonic()
        await publish_paced(server.url, settings, range(100, 200))
        await wait_all_out(client, settings, {f"k{i}" for i in range(100, 200)}, timeout=120)
        print(
            f"\nFLUSHALL test: 100 articles after the flush all out in {time.monotonic() - t0:.1f}s"
        )
        assert all(processes.alive().values()), "no service exited after losing its group"
        processes.stop_pipeline()
    finally:
        await client.aclose()
        server.stop()


async def test_sigterm_mid_run_exits_0_and_strands_nothing(
    redis: Redis, settings: Settings, processes: Processes
) -> None:
    n = 600
    env = {**FAST_RECLAIM, **service_env(settings)}
    processes.start_pipeline(settings, env)
    publisher = asyncio.create_task(publish_paced(settings.redis_url, settings, range(n)))
    await wait_for_len(redis, settings.streams.enriched, 100, timeout=120)
    t0 = time.monotonic()
    code = processes.stop("entity", timeout=30)
    stopped = time.monotonic() - t0
    assert code == 0, processes.log("entity")[-3000:]
    processes.start_compose_service("entity", settings, env)
    await publisher
    total = await wait_all_out(redis, settings, {f"k{i}" for i in range(n)}, timeout=180)
    print(
        f"\nSIGTERM test: entity stopped in {stopped:.1f}s (exit 0), {n} published, lost 0, "
        f"entries out {total}"
    )
    processes.stop_pipeline()
