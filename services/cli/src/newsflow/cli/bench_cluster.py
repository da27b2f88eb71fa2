"""One Redis beside a Redis Cluster: ``make bench-cluster DATA=../shared/eval``.

In one run, on a private ``redis-server`` and a private local cluster (3 primaries, 3
replicas, loopback), with the services started by their compose commands:

1. the no-op stage (``newsflow.cli.noop``: the runtime without work) fed a backlog, with 1 and
   2 processes (the median of ``--rounds`` runs, taken in rounds over all layouts), on one
   node and on the cluster at N = 1, 3 and 6 partitions, and on the cluster at N = 1 and 3
   with ``WAIT`` off (``NEWSFLOW_REDIS_WAIT_REPLICAS=0``): messages/s in total and per
   process; then paced at a fixed offered load, the hop latency of each message (input entry
   -> output entry, Redis clock) p50 / p99;
2. the dedup stage (one process) on real news (10kGNAD), in the same rounds: articles/s (the
   median), and the Redis memory per remembered article (MEMORY USAGE of every key under the
   run's key prefix, on the primaries, over the articles it passed as unique);
3. dedup recall: the near-duplicate evaluation's originals, then their edited variants
   (``newsflow.dedup.evaluate --export``, scored by its ``--score``), through the running
   dedup stage, on one node and on the
   cluster with 3 and 6 partitions (each copy goes to its own id's partition, so a variant
   usually lands on another partition than its original): precision and recall on variants
   with true Jaccard >= 0.8;
4. the race the spread index accepts (``newsflow.dedup.race``): two replicas deciding copies
   of the same stories at the same moment, with the default day-long time slots and with a
   slot boundary every second: pairs both called unique, beside the same pairs decided one
   after the other.

The cluster's six nodes and the services share this machine's cores: the figures measure the
runtime's cost of cluster mode on one box, not a cluster's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from newsflow.cli.bench import (
    BATCH_SIZES,
    NOOP_COMMAND,
    Service,
    _percentile,
    _text,
    _wait_len,
)
from newsflow.cli.services import service_command
from newsflow.shared.events import ArticleEvent, DedupSection
from newsflow.shared.local_cluster import LocalCluster
from newsflow.shared.local_redis import LocalRedis
from newsflow.shared.redis_streams import session, total_length
from newsflow.shared.settings import Settings
from newsflow.shared.wire import encode_event


@dataclass(frozen=True, slots=True)
class Layout:
    label: str
    url: str
    cluster: bool
    partitions: int
    wait_replicas: int | None = None  # None: the default (1 in cluster mode, else 0)

    def settings(self, tag: str) -> Settings:
        """Settings of one measurement: its own stream and key prefixes."""
        return Settings(
            redis_url=self.url,
            redis_cluster=self.cluster,
            partitions=self.partitions,
            stream_prefix=f"b{tag}.",
            key_prefix=f"nfb{tag}:",
            redis_wait_replicas=self.wait_replicas,
        )

    def env(self, settings: Settings) -> dict[str, str]:
        env = {
            "NEWSFLOW_REDIS_URL": self.url,
            "NEWSFLOW_REDIS_CLUSTER": "true" if self.cluster else "false",
            "NEWSFLOW_PARTITIONS": str(self.partitions),
            "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
            "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
        }
        if self.wait_replicas is not None:
            env["NEWSFLOW_REDIS_WAIT_REPLICAS"] = str(self.wait_replicas)
        return env


@dataclass
class Figures:
    noop: dict[int, float]  # processes -> messages/s in total
    p50_ms: float
    p99_ms: float
    dedup: float = 0.0  # articles/s, one process
    bytes_per_article: float = 0.0


class ClusterBench:
    def __init__(self, workdir: Path, messages: int, offered: float, seconds: float) -> None:
        self.workdir = workdir
        self.messages = messages
        self.offered = offered
        self.seconds = seconds

    def _services(self, layout: Layout, settings: Settings, name: str, count: int) -> list[Service]:
        command = NOOP_COMMAND if name == "noop" else service_command(name)
        env = {
            **layout.env(settings),
            "NEWSFLOW_LOG_LEVEL": "WARNING",
            "NEWSFLOW_BATCH_SIZE": str(BATCH_SIZES.get(name, BATCH_SIZES["dedup"])),
        }
        services = [
            Service(name, command, env, self.workdir / f"{name}-{layout.label}-{i}.log")
            for i in range(count)
        ]
        for service in services:
            service.start()
        for service in services:
            service.wait_ready()
        return services

    @staticmethod
    def _stop(services: Sequence[Service]) -> None:
        for service in services:
            service.stop()

    @staticmethod
    async def _count(redis: Redis, settings: Settings, name: str) -> int:
        return await total_length(redis, settings.partition_streams(name))

    @staticmethod
    async def _wait(
        redis: Redis,
        settings: Settings,
        names: Sequence[str],
        want: int,
        services: Sequence[Service],
    ) -> float:
        """Seconds until every partition's streams of ``names`` hold ``want`` entries."""
        streams = [s for name in names for s in settings.partition_streams(name)]
        return await _wait_len(redis, streams, want, 600, services)

    @staticmethod
    async def _write(redis: Redis, settings: Settings, name: str, items: Sequence[Any]) -> None:
        """XADD each (article id, fields) to its partition's stream, 500 a pipeline."""
        for start in range(0, len(items), 500):
            pipe = redis.pipeline(transaction=False)
            for article_id, fields in items[start : start + 500]:
                stream = getattr(settings.partition_for(article_id).streams, name)
                pipe.xadd(stream, fields)
            await pipe.execute()

    def _noop_items(self, tag: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        text = "Ein kurzer Text. " * 20
        event = ArticleEvent(
            id="x", text=text, dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f")
        )
        items = []
        for i in range(count):
            article_id = f"{tag}n{i}"
            items.append((article_id, encode_event(event.model_copy(update={"id": article_id}))))
        return items

    def noop(self, layout: Layout, processes: int) -> float:
        """Messages/s of ``processes`` no-op stages reading a backlog of ``messages``."""
        tag = uuid.uuid4().hex[:8]
        settings = layout.settings(tag)
        services = self._services(layout, settings, "noop", processes)
        items = self._noop_items(tag, self.messages)
        try:

            async def go() -> float:
                async with session(layout.url, cluster=layout.cluster) as redis:
                    started = time.monotonic()
                    await self._write(redis, settings, "unique", items)
                    await self._wait(redis, settings, ["language"], len(items), services)
                    return len(items) / (time.monotonic() - started)

            return asyncio.run(go())
        finally:
            self._stop(services)

    def latency(self, layout: Layout) -> list[float]:
        """Hop latency (s) of each message through one no-op stage at the offered load."""
        tag = uuid.uuid4().hex[:8]
        settings = layout.settings(tag)
        services = self._services(layout, settings, "noop", 1)
        items = self._noop_items(tag, int(self.offered * self.seconds))
        try:

            async def go() -> list[float]:
                async with session(layout.url, cluster=layout.cluster) as redis:
                    sent: dict[str, int] = {}
                    started = time.monotonic()
                    for i, (article_id, fields) in enumerate(items):
                        delay = started + i / self.offered - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)  # pacing the offered load
                        stream = settings.partition_for(article_id).streams.unique
                        entry = await redis.xadd(stream, fields)  # type: ignore[arg-type]
                        sent[article_id] = int(_text(entry).split("-")[0])
                    await self._wait(redis, settings, ["language"], len(items), services)
                    out = []
                    for stream in settings.partition_streams("language"):
                        entries: Any = await redis.xrange(stream)
                        for entry_id, fields in entries:
                            article = _text(fields[b"id"])
                            done = int(_text(entry_id).split("-")[0])
                            out.append((done - sent[article]) / 1000)
                    return out

            return asyncio.run(go())
        finally:
            self._stop(services)

    @staticmethod
    async def _state_bytes(redis: Redis, settings: Settings) -> int:
        """MEMORY USAGE of every key under the run's key prefix (the dedup index and the
        stage's small state), on the primaries: replicas hold as much again."""
        total = 0
        async for key in redis.scan_iter(match=f"{settings.key_prefix}*", count=1000):
            total += int(await redis.memory_usage(key, samples=0) or 0)
        return total

    def dedup(self, layout: Layout, rows: list[dict[str, str]]) -> tuple[float, float]:
        """One dedup stage on a backlog of ``rows`` (all new to it): articles/s, and Redis
        bytes per remembered article."""
        tag = uuid.uuid4().hex[:8]
        settings = layout.settings(tag)
        services = self._services(layout, settings, "dedup", 1)
        items = [(r["id"], _raw(r["id"], r["text"])) for r in rows]
        try:

            async def go() -> tuple[float, float]:
                async with session(layout.url, cluster=layout.cluster) as redis:
                    started = time.monotonic()
                    await self._write(redis, settings, "raw", items)
                    outputs = ["unique", "duplicates"]
                    await self._wait(redis, settings, outputs, len(items), services)
                    rate = len(items) / (time.monotonic() - started)
                    remembered = await self._count(redis, settings, "unique")
                    return rate, await self._state_bytes(redis, settings) / max(1, remembered)

            return asyncio.run(go())
        finally:
            self._stop(services)

    def recall(self, layout: Layout, articles: list[dict[str, str]], out: Path) -> None:
        """The exported originals, then variants, through one running dedup stage; each
        article's verdict (id, status, cluster_id) written to ``out`` as JSON lines."""
        tag = uuid.uuid4().hex[:8]
        settings = layout.settings(tag)
        services = self._services(layout, settings, "dedup", 1)
        # A variant's id ("<original>~word_swaps_1-5%") is no article id: each goes as "a<n>".
        wire = {a["id"]: f"a{n}" for n, a in enumerate(articles)}
        back = {w: i for i, w in wire.items()}
        originals = [a for a in articles if "original" not in a]
        variants = [a for a in articles if "original" in a]
        try:

            async def go() -> list[dict[str, Any]]:
                async with session(layout.url, cluster=layout.cluster) as redis:
                    done = 0
                    for batch in (originals, variants):  # the originals first, all of them
                        items = [(wire[a["id"]], _raw(wire[a["id"]], a["text"])) for a in batch]
                        await self._write(redis, settings, "raw", items)
                        done += len(items)
                        outputs = ["unique", "duplicates", "dlq"]
                        await self._wait(redis, settings, outputs, done, services)
                    if dead := await self._count(redis, settings, "dlq"):
                        raise RuntimeError(f"{dead} articles dead-lettered ({services[0].log})")
                    verdicts = []
                    for name in ("unique", "duplicates"):
                        for stream in settings.partition_streams(name):
                            entries: Any = await redis.xrange(stream)
                            for _, fields in entries:
                                event = ArticleEvent.model_validate_json(fields[b"event"])
                                assert event.dedup is not None
                                verdicts.append(
                                    {
                                        "id": back[event.id],
                                        "status": event.dedup.status,
                                        "cluster_id": back.get(event.dedup.cluster_id or ""),
                                    }
                                )
                    return verdicts

            verdicts = asyncio.run(go())
        finally:
            self._stop(services)
        out.write_text("".join(json.dumps(v) + "\n" for v in verdicts), encoding="utf-8")


def _evaluate(news: Path, limit: int, *args: str) -> str:
    """``newsflow.dedup.evaluate`` on the first ``limit`` articles (the dedup service's own
    evaluation: its variants and its scoring); its standard output."""
    argv = [sys.executable, "-m", "newsflow.dedup.evaluate", "--data", str(news)]
    done = subprocess.run(
        [*argv, "--limit", str(limit), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def _race(url: str, news: Path) -> list[dict[str, Any]]:
    """``newsflow.dedup.race`` on the cluster (the dedup service's own module, in its own
    process: this package does not import the services)."""
    argv = [sys.executable, "-m", "newsflow.dedup.race", "--url", url, "--data", str(news)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _raw(article_id: str, text: str) -> dict[str, str]:
    return {"article": json.dumps({"id": article_id, "title": "", "text": text})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--messages", type=int, default=20000, help="no-op backlog")
    parser.add_argument("--offered", type=float, default=500.0, help="paced no-op messages/s")
    parser.add_argument("--seconds", type=float, default=6.0, help="paced run length")
    parser.add_argument("--articles", type=int, default=3000, help="dedup stage backlog")
    parser.add_argument("--rounds", type=int, default=3, help="no-op runs per layout (median)")
    parser.add_argument("--recall-articles", type=int, default=400, help="originals for recall")
    args = parser.parse_args(argv)
    began = time.monotonic()
    news = args.data / "news" / "10kgnad_de.jsonl" if args.data.is_dir() else args.data
    with news.open(encoding="utf-8") as file:
        rows = [json.loads(line) for _, line in zip(range(args.articles), file, strict=False)]
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-cluster-"))
    exported = workdir / "dedup-eval.jsonl"
    _evaluate(news, args.recall_articles, "--export", str(exported))
    recall_set = [json.loads(line) for line in exported.open(encoding="utf-8")]
    n_variants = sum(1 for a in recall_set if "original" in a)
    bench = ClusterBench(workdir, args.messages, args.offered, args.seconds)
    print(f"newsflow bench-cluster: {os.cpu_count()} cores; no-op backlog {args.messages:,}, "
          f"paced {args.offered:,.0f} msg/s for {args.seconds:.0f} s; dedup {args.articles:,} "
          f"articles; recall {len(recall_set) - n_variants} originals + {n_variants:,} variants; "
          f"logs "
          f"in {workdir}", flush=True)  # fmt: skip

    figures: dict[str, Figures] = {}
    recalls: dict[str, dict[str, Any]] = {}
    single = LocalRedis().start()
    cluster = LocalCluster(directory=workdir / "cluster").start()
    # The same 3 primaries without their replicas: what cluster mode costs by itself, apart
    # from the replicas' share of the cores (all on this one machine) and WAIT.
    bare = LocalCluster(replicas=0, directory=workdir / "cluster-no-replicas").start()
    try:
        layouts = [
            Layout("one node", single.url, False, 1),
            Layout("cluster N=1 no replicas", bare.url, True, 1),
            Layout("cluster N=1", cluster.url, True, 1),
            Layout("cluster N=3", cluster.url, True, 3),
            Layout("cluster N=6", cluster.url, True, 6),
            Layout("cluster N=1 no WAIT", cluster.url, True, 1, 0),
            Layout("cluster N=3 no WAIT", cluster.url, True, 3, 0),
        ]
        # The no-op runs go in rounds over every layout, the median of each kept: this VM's
        # speed drifts by a third within a minute, more than some differences measured here.
        # The dedup runs likewise (the layouts with the default WAIT).
        runs: dict[tuple[str, int], list[float]] = {}
        dedup_runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for layout in layouts:
                for processes in (1, 2):
                    rate = bench.noop(layout, processes)
                    runs.setdefault((layout.label, processes), []).append(rate)
                if layout.wait_replicas is None:
                    dedup_runs.setdefault(layout.label, []).append(bench.dedup(layout, rows))
        print(f"measured: no-op and dedup, {args.rounds} rounds", flush=True)
        for layout in layouts:
            noop = {p: statistics.median(runs[layout.label, p]) for p in (1, 2)}
            hops = bench.latency(layout)
            fig = Figures(noop, _percentile(hops, 50) * 1000, _percentile(hops, 99) * 1000)
            if layout.label in dedup_runs:
                fig.dedup = statistics.median(r for r, _ in dedup_runs[layout.label])
                fig.bytes_per_article = statistics.median(b for _, b in dedup_runs[layout.label])
            figures[layout.label] = fig
            print(f"measured: {layout.label}: p99 {fig.p99_ms:,.0f} ms, dedup "
                  f"{fig.dedup:,.0f}/s", flush=True)  # fmt: skip
        for layout in [layouts[0], *layouts[3:5]]:  # one node, cluster N=3 and N=6
            out = workdir / f"verdicts-{layout.label.replace(' ', '-')}.jsonl"
            bench.recall(layout, recall_set, out)
            score = _evaluate(news, args.recall_articles, "--score", str(out))
            recalls[layout.label] = json.loads(score.strip().splitlines()[-1])
            print(f"measured: recall {layout.label}", flush=True)
        races = _race(cluster.url, news)
        print("measured: boundary race", flush=True)
    finally:
        bare.stop()
        cluster.stop()
        single.stop()

    base = figures["one node"]
    print(f"\nno-op stage, messages/s (total; per process; median of {args.rounds}), and hop "
          f"latency (entry ids: 1 ms resolution) at "
          f"{args.offered:,.0f} msg/s offered:")  # fmt: skip
    print(f"  {'layout':<24} {'1 proc':>9} {'2 proc':>9} {'per proc':>9} {'x one node':>10} "
          f"{'p50 ms':>7} {'p99 ms':>7}")  # fmt: skip
    for label, fig in figures.items():
        print(f"  {label:<24} {fig.noop[1]:>9,.0f} {fig.noop[2]:>9,.0f} {fig.noop[2] / 2:>9,.0f} "
              f"{fig.noop[1] / base.noop[1]:>10.2f} {fig.p50_ms:>7,.1f} "
              f"{fig.p99_ms:>7,.1f}")  # fmt: skip
    print(f"\ndedup stage, one process (real news, all unique to it; median of {args.rounds}):")
    for label, fig in figures.items():
        if fig.dedup:
            print(f"  {label:<24} {fig.dedup:>9,.0f} articles/s ({fig.dedup / base.dedup:.2f}x "
                  f"one node), {fig.bytes_per_article:,.0f} Redis bytes per remembered "
                  f"article")  # fmt: skip
    print("\ndedup through the running stage, originals then variants (each to its id's "
          "partition):")  # fmt: skip
    for label, r in recalls.items():
        print(f"  {label:<24} precision {r['precision']:.4f}, recall on J >= 0.8 "
              f"{r['recall_hi']:.4f} ({r['found_hi']}/{r['hi']}), originals flagged "
              f"{r['originals_flagged']}")  # fmt: skip
    print("\ntwo replicas deciding copies at the same moment (index spread over the cluster):")
    for r in races:
        print(f"  slots of {r['slot_seconds']:>6,} s: {r['boundaries']} boundaries, "
              f"{r['missed']} of {r['pairs']:,} pairs both unique, {r['missed_apart']} when "
              f"decided one after the other; call p50 {r['call_p50_ms']:.1f} ms, p99 "
              f"{r['call_p99_ms']:.1f} ms")  # fmt: skip
    wait_cost = {
        n: 1 - figures[f"cluster N={n}"].noop[1] / figures[f"cluster N={n} no WAIT"].noop[1]
        for n in (1, 3)
    }
    cost_n1 = 1 - figures["cluster N=1"].noop[1] / base.noop[1]
    cost_bare = 1 - figures["cluster N=1 no replicas"].noop[1] / base.noop[1]
    curve = " -> ".join(f"{figures[f'cluster N={n}'].noop[2]:,.0f}" for n in (1, 3, 6))
    recall_gap = max(
        abs(r["recall_hi"] - recalls["one node"]["recall_hi"]) for r in recalls.values()
    )
    print(f"\nbench-cluster took {time.monotonic() - began:,.0f} s")
    print(f"summary: cluster N=1 costs {cost_n1:.0%} of one node's no-op throughput per process "
          f"(goal <= 15 %), {cost_bare:.0%} without replicas | WAIT costs "
          f"{wait_cost[1]:.0%} at N=1, {wait_cost[3]:.0%} at N=3 | "
          f"2-process no-op total at N=1/3/6: {curve} msg/s | dedup recall gap across "
          f"partitions {recall_gap:.4f} (goal <= 0.01)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
