"""Prometheus metrics of one stage service, served at ``/metrics`` on its health port.

Counters and histograms are updated on the hot path (cheap, no I/O); consumer-group lag,
pending entries and stream length need Redis and are read when Prometheus scrapes.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from redis.asyncio import Redis

from newsflow.shared.redis_streams import group_info

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class StageMetrics:
    """One registry per service (not the global one: tests run several stages per process)."""

    def __init__(
        self,
        service: str,
        input_stream: str,
        group: str,
        *,
        partitions: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``partitions``: (stream, group) of every input partition when there are several;
        lag and pending are summed over them."""
        self.service = service
        self.input_stream = input_stream
        self.group = group
        self.inputs = list(partitions) or [(input_stream, group)]
        self.registry = CollectorRegistry()
        labels = ["service"]
        self.entries = Counter(
            "newsflow_entries_total",
            "Input entries handled, by outcome (routed, dead_lettered, failed)",
            [*labels, "outcome"],
            registry=self.registry,
        )
        self.outputs = Counter(
            "newsflow_outputs_total",
            "Events written, by output stream (articles.duplicates counts duplicates found)",
            [*labels, "stream"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "newsflow_batch_seconds",
            "Time to process and write one read batch",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "newsflow_batch_entries",
            "Entries per read batch",
            labels,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.entry_age = Histogram(
            "newsflow_entry_age_seconds",
            "Time from an entry's arrival in the input stream to its output (per-stage latency"
            " including queueing)",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_load_seconds = Gauge(
            "newsflow_model_load_seconds",
            "Time the stage took to start (models loaded)",
            labels,
            registry=self.registry,
        )
        self.lag = Gauge(
            "newsflow_group_lag",
            "Entries in the input stream not yet delivered to the group",
            labels,
            registry=self.registry,
        )
        self.pending = Gauge(
            "newsflow_group_pending",
            "Entries delivered to the group and not yet acknowledged",
            labels,
            registry=self.registry,
        )
        self.stream_length = Gauge(
            "newsflow_stream_length", "XLEN of the input stream", ["stream"], registry=self.registry
        )

    def observe_batch(
        self,
        entry_ids: Sequence[str],
        *,
        routed: Sequence[str],
        dead_lettered: int,
        failed: int,
        seconds: float,
    ) -> None:
        service = self.service
        self.batch_seconds.labels(service).observe(seconds)
        self.batch_size.labels(service).observe(len(entry_ids))
        if routed:
            self.entries.labels(service, "routed").inc(len(routed))
        if dead_lettered:
            self.entries.labels(service, "dead_lettered").inc(dead_lettered)
        if failed:
            self.entries.labels(service, "failed").inc(failed)
        for stream, count in collections.Counter(routed).items():
            self.outputs.labels(service, stream).inc(count)
        now_ms = time.time() * 1000
        age = self.entry_age.labels(service)
        for entry_id in entry_ids:
            arrived = int(entry_id.partition("-")[0])
            age.observe(max(0.0, (now_ms - arrived) / 1000))

    async def refresh(self, client: Redis) -> None:
        """Read lag, pending and stream lengths from Redis (at scrape time)."""
        pending = 0
        lag: int | None = None
        for stream, group in self.inputs:
            for g in await group_info(client, stream):
                if g.get("name") == group:
                    pending += int(g.get("pending") or 0)
                    if g.get("lag") is not None:
                        lag = (lag or 0) + int(g["lag"])
            # Only the input stream: a service may write the DLQ but not read it (ACL).
            self.stream_length.labels(stream).set(await client.xlen(stream))
        self.pending.labels(self.service).set(pending)
        if lag is not None:
            self.lag.labels(self.service).set(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)
