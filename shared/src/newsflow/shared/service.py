"""The FastStream application of a stage: the one app shape shared by the three services.

* a batch stream subscriber on the stage's input, in the service's consumer group (created at
  ``0`` before the subscriber starts), with a consumer name unique per process; a stage whose
  work runs in parallel elsewhere (the entity stage's NER processes) has one subscriber per
  batch it may have in flight, each its own consumer (``<name>``, ``<name>.2``, ...);
* acknowledgements are written by the :class:`StageRunner` together with the outputs;
* a :class:`Reclaimer` task beside it, so entries of dead or failing consumers are retried and,
  past the retry cap, dead-lettered;
* if the group disappears (Redis lost its data), it is recreated and the subscriber restarted
  instead of the app exiting;
* on SIGTERM/SIGINT the subscriber stops reading, the batch in flight finishes (up to
  ``shutdown_timeout_s``) and is acknowledged; anything not finished stays pending and is
  reclaimed by another replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import structlog
from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBroker, RedisClusterBroker, StreamSub
from faststream.redis.exceptions import StreamGroupNotFoundError
from faststream.redis.prometheus import RedisPrometheusMiddleware

from newsflow.shared.health import HealthServer
from newsflow.shared.heap import freeze_startup_heap
from newsflow.shared.logging import configure_logging
from newsflow.shared.metrics import StageMetrics
from newsflow.shared.outputs import OutputConnection
from newsflow.shared.reclaim import Reclaimer
from newsflow.shared.redis_streams import connect, ensure_group, group_info
from newsflow.shared.settings import Settings
from newsflow.shared.stage import Stage, StageContext, StageRunner
from newsflow.shared.stream_keys import parse_keys_locally
from newsflow.shared.wire import Entry, batch_entry_decoder, batch_entry_parser


def build_app(stage: Stage, settings: Settings) -> FastStream:
    """The FastStream application of a stage. Settings are built by the caller and passed in.

    With several partitions (or on a cluster) every replica reads every partition of its input:
    one group per partition stream, the same consumer names in each, one runner and reclaimer
    per partition, so a batch never mixes partitions and its transaction keeps to one slot."""
    configure_logging(settings, service=stage.service)
    logger = structlog.get_logger("faststream")
    log = structlog.get_logger("newsflow")
    consumer = settings.resolved_consumer_name(stage.service)
    views = settings.partition_views()
    inputs = [(stage.input_stream(view), view.group(stage.service)) for view in views]
    input_stream, group = inputs[0]

    metrics = StageMetrics(
        stage.service, input_stream, group, partitions=inputs if len(inputs) > 1 else ()
    )
    broker_class = RedisClusterBroker if settings.redis_cluster else RedisBroker
    broker: RedisBroker = broker_class(
        settings.redis_dsn(),
        logger=logger,
        log_level=logging.DEBUG,
        graceful_timeout=settings.shutdown_timeout_s,
        # FastStream's own per-batch metrics (faststream_*), beside newsflow's (newsflow_*).
        middlewares=[RedisPrometheusMiddleware(registry=metrics.registry, app_name=stage.service)],
    )
    app = FastStream(broker, logger=logger)
    state: dict[str, Any] = {"recovering": set(), "runners": {}}
    stop = asyncio.Event()

    def subscribe(part: int, name: str, index: int) -> Any:
        """One batch subscriber of partition ``part`` reading for consumer ``name``; only the
        first is in the AsyncAPI document, which describes the channel once."""
        stream, part_group = inputs[part]
        subscriber = broker.subscriber(
            stream=StreamSub(
                stream,
                group=part_group,
                consumer=name,
                batch=True,
                max_records=settings.batch_size,
                polling_interval=settings.block_ms,
            ),
            parser=batch_entry_parser,
            decoder=batch_entry_decoder,
            ack_policy=AckPolicy.MANUAL,
            title=f"{stage.service}:{stream}" + (f":{name}" if index else ""),
            include_in_schema=index == 0,
        )

        @subscriber
        async def handle(body: Any) -> None:  # list[Entry], from batch_entry_decoder
            entries: list[Entry] = body
            await state["runners"][part].run_batch(entries)

        return subscriber

    # Each in-flight batch has its own consumer of the group: "<consumer>", "<consumer>.2", ...
    in_flight = max(1, stage.in_flight(settings))
    consumers = [consumer, *(f"{consumer}.{i}" for i in range(2, in_flight + 1))]
    subscribers = {
        part: [subscribe(part, name, part * len(consumers) + i) for i, name in enumerate(consumers)]
        for part in range(len(inputs))
    }

    async def recover_group(part: int) -> None:
        """Recreate a partition's group (and stream) and restart its subscribers, with backoff."""
        if part in state["recovering"]:
            return
        state["recovering"].add(part)
        stream, part_group = inputs[part]
        delay = 0.2
        try:
            while not stop.is_set():
                try:
                    await ensure_group(state["redis"], stream, part_group)
                    for subscriber in subscribers[part]:
                        await subscriber.stop()
                        await subscriber.start()
                except Exception as exc:
                    log.error("group recovery failed; retrying", error=str(exc), delay=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                else:
                    log.warning("consumer group recreated", stream=stream, group=part_group)
                    return
        finally:
            state["recovering"].discard(part)

    # FastStream stops a subscriber and exits the app (code 0) when the group vanishes
    # ("NOGROUP", e.g. after Redis lost its data). newsflow recreates it and keeps serving.
    def keep_serving(subscriber: Any, part: int) -> None:
        original_terminal = subscriber._stop_on_terminal_error

        async def on_terminal_error(exc: Exception, msg: str) -> None:
            if isinstance(exc, StreamGroupNotFoundError) and not stop.is_set():
                log.error(
                    "consumer group vanished; recreating it",
                    stream=inputs[part][0],
                    group=inputs[part][1],
                )
                state[f"recovery_task.{part}"] = asyncio.create_task(recover_group(part))
                return
            await original_terminal(exc, msg)

        subscriber._stop_on_terminal_error = on_terminal_error

    for part, part_subscribers in subscribers.items():
        for subscriber in part_subscribers:
            keep_serving(subscriber, part)

    @app.on_startup
    async def _start() -> None:
        cluster = settings.redis_cluster
        client = connect(settings.redis_dsn(), cluster=cluster)
        created = [await ensure_group(client, stream, g) for stream, g in inputs]
        transactions = connect(settings.redis_dsn(), retry_timeouts=False, cluster=cluster)
        state["transactions"] = transactions
        ctx = StageContext(
            settings=settings,
            service=stage.service,
            consumer=consumer,
            redis=client,
            limits=settings.input_limits(),
            transactions=transactions,
        )
        started = time.perf_counter()
        await stage.start(ctx)
        metrics.model_load_seconds.labels(stage.service).set(time.perf_counter() - started)
        state["redis"] = client
        state["outputs"] = []
        state["reclaimers"] = []
        # On one node without WAIT the transaction client of today serves every batch;
        # otherwise each partition has its own connection on its slot's primary (outputs.py).
        pinned = settings.redis_cluster or settings.wait_replicas > 0
        for part, view in enumerate(views):
            output = OutputConnection(view, client, inputs[part][0]) if pinned else None
            if output is not None:
                state["outputs"].append(output)
            runner = StageRunner(
                stage, ctx, metrics, partition=view if settings.partitioned else None, output=output
            )
            state["runners"][part] = runner

            async def group_missing(part: int = part) -> None:
                await recover_group(part)

            state["reclaimers"].append(
                Reclaimer(
                    runner,
                    min_idle_ms=settings.reclaim_idle_ms,
                    max_attempts=settings.max_attempts,
                    count=settings.batch_size,
                    interval_s=settings.reclaim_interval_ms / 1000,
                    on_group_missing=group_missing,
                    trim_interval_s=settings.trim_interval_s,
                    forget_idle_ms=int(settings.consumer_forget_s * 1000),
                    own_consumers=consumers,
                )
            )
        log.info(
            "stage started",
            stream=input_stream,
            group=group,
            partitions=len(inputs),
            cluster=cluster,
            wait_replicas=settings.wait_replicas,
            consumer=consumer,
            in_flight=len(consumers),
            group_created=any(created),
        )

    async def readiness() -> dict[str, bool]:
        client = state.get("redis")
        checks = {
            "started": bool(state["runners"]),
            "subscriber": all(s.running for subs in subscribers.values() for s in subs),
        }
        try:
            checks["redis"] = bool(client is not None and await client.ping())
            found = True
            for stream, part_group in inputs:
                groups = await group_info(client, stream) if client is not None else []
                found = found and any(g["name"] == part_group for g in groups)
            checks["group"] = found
        except Exception:
            checks["redis"] = False
            checks["group"] = False
        return checks

    async def scrape() -> bytes:
        client = state.get("redis")
        if client is not None:
            try:
                await metrics.refresh(client)
            except Exception as exc:  # Redis away: counters are still worth serving
                log.warning("metrics: Redis gauges not refreshed", error=str(exc)[:200])
        return metrics.render()

    @app.after_startup
    async def _after_start() -> None:
        """Models and modules are loaded: freeze them (heap.py), then start the reclaimers and
        the health server (ready from here on)."""
        # the subscribers' reads: XREADGROUP keys without a COMMAND GETKEYS each (stream_keys.py)
        parse_keys_locally(getattr(broker, "_connection", None))
        frozen = freeze_startup_heap()
        log.info("start-up heap frozen", objects=frozen)
        state["reclaim_tasks"] = [
            asyncio.create_task(reclaimer.run(stop)) for reclaimer in state["reclaimers"]
        ]
        if settings.health_port is not None:
            health = HealthServer(settings.health_host, settings.health_port, readiness, scrape)
            await health.start()
            state["health"] = health
            log.info("health server listening", port=health.port)

    @app.on_shutdown
    async def _stop_reclaimer() -> None:
        stop.set()
        tasks = state.get("reclaim_tasks", [])
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=settings.shutdown_timeout_s)

    @app.after_shutdown
    async def _stop() -> None:
        health = state.get("health")
        if health is not None:
            await health.stop()
        await stage.close()
        for output in state.get("outputs", []):
            await output.close()
        for name in ("redis", "transactions"):
            client = state.get(name)
            if client is not None:
                await client.aclose()
        log.info("stage stopped", consumer=consumer)

    return app
