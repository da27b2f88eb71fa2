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
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.exceptions import StreamGroupNotFoundError
from faststream.redis.prometheus import RedisPrometheusMiddleware

from newsflow.shared.health import HealthServer
from newsflow.shared.heap import freeze_startup_heap
from newsflow.shared.logging import configure_logging
from newsflow.shared.metrics import StageMetrics
from newsflow.shared.reclaim import Reclaimer
from newsflow.shared.redis_streams import connect, ensure_group, group_info
from newsflow.shared.settings import Settings
from newsflow.shared.stage import Stage, StageContext, StageRunner
from newsflow.shared.wire import Entry, batch_entry_decoder, batch_entry_parser


def build_app(stage: Stage, settings: Settings) -> FastStream:
    """The FastStream application of a stage. Settings are built by the caller and passed in."""
    configure_logging(settings, service=stage.service)
    logger = structlog.get_logger("faststream")
    log = structlog.get_logger("newsflow")
    consumer = settings.resolved_consumer_name(stage.service)
    input_stream = stage.input_stream(settings)
    group = settings.group(stage.service)

    metrics = StageMetrics(stage.service, input_stream, group)
    broker = RedisBroker(
        settings.redis_dsn(),
        logger=logger,
        log_level=logging.DEBUG,
        graceful_timeout=settings.shutdown_timeout_s,
        # FastStream's own per-batch metrics (faststream_*), beside newsflow's (newsflow_*).
        middlewares=[RedisPrometheusMiddleware(registry=metrics.registry, app_name=stage.service)],
    )
    app = FastStream(broker, logger=logger)
    state: dict[str, Any] = {"recovering": False}
    stop = asyncio.Event()

    def subscribe(name: str, index: int) -> Any:
        """One batch subscriber reading for consumer ``name``; the extra ones (in-flight
        batches past the first) are left out of the AsyncAPI document, which describes the
        channel once."""
        subscriber = broker.subscriber(
            stream=StreamSub(
                input_stream,
                group=group,
                consumer=name,
                batch=True,
                max_records=settings.batch_size,
                polling_interval=settings.block_ms,
            ),
            parser=batch_entry_parser,
            decoder=batch_entry_decoder,
            ack_policy=AckPolicy.MANUAL,
            title=f"{stage.service}:{input_stream}",
            include_in_schema=index == 0,
        )

        @subscriber
        async def handle(body: Any) -> None:  # list[Entry], from batch_entry_decoder
            entries: list[Entry] = body
            await state["runner"].run_batch(entries)

        return subscriber

    # Each in-flight batch has its own consumer of the group: "<consumer>", "<consumer>.2", ...
    in_flight = max(1, stage.in_flight(settings))
    consumers = [consumer, *(f"{consumer}.{i}" for i in range(2, in_flight + 1))]
    subscribers = [subscribe(name, i) for i, name in enumerate(consumers)]

    async def recover_group() -> None:
        """Recreate the group (and the stream) and restart the subscriber, with backoff."""
        if state["recovering"]:
            return
        state["recovering"] = True
        delay = 0.2
        try:
            while not stop.is_set():
                try:
                    await ensure_group(state["redis"], input_stream, group)
                    for subscriber in subscribers:
                        await subscriber.stop()
                        await subscriber.start()
                except Exception as exc:
                    log.error("group recovery failed; retrying", error=str(exc), delay=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                else:
                    log.warning("consumer group recreated", stream=input_stream, group=group)
                    return
        finally:
            state["recovering"] = False

    # FastStream stops a subscriber and exits the app (code 0) when the group vanishes
    # ("NOGROUP", e.g. after Redis lost its data). newsflow recreates it and keeps serving.
    def keep_serving(subscriber: Any) -> None:
        original_terminal = subscriber._stop_on_terminal_error

        async def on_terminal_error(exc: Exception, msg: str) -> None:
            if isinstance(exc, StreamGroupNotFoundError) and not stop.is_set():
                log.error(
                    "consumer group vanished; recreating it", stream=input_stream, group=group
                )
                state["recovery_task"] = asyncio.create_task(recover_group())
                return
            await original_terminal(exc, msg)

        subscriber._stop_on_terminal_error = on_terminal_error

    for subscriber in subscribers:
        keep_serving(subscriber)

    @app.on_startup
    async def _start() -> None:
        client = connect(settings.redis_dsn())
        created = await ensure_group(client, input_stream, group)
        transactions = connect(settings.redis_dsn(), retry_timeouts=False)
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
        runner = StageRunner(stage, ctx, metrics)
        state["runner"] = runner
        state["redis"] = client
        state["reclaimer"] = Reclaimer(
            runner,
            min_idle_ms=settings.reclaim_idle_ms,
            max_attempts=settings.max_attempts,
            count=settings.batch_size,
            interval_s=settings.reclaim_interval_ms / 1000,
            on_group_missing=recover_group,
            trim_interval_s=settings.trim_interval_s,
            forget_idle_ms=int(settings.consumer_forget_s * 1000),
            own_consumers=consumers,
        )
        log.info(
            "stage started",
            stream=input_stream,
            group=group,
            consumer=consumer,
            in_flight=len(subscribers),
            group_created=created,
        )

    async def readiness() -> dict[str, bool]:
        client = state.get("redis")
        checks = {
            "started": "runner" in state,
            "subscriber": all(subscriber.running for subscriber in subscribers),
        }
        try:
            checks["redis"] = bool(client is not None and await client.ping())
            groups = await group_info(client, input_stream) if client is not None else []
            checks["group"] = any(g["name"] == group for g in groups)
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
        """Models and modules are loaded: freeze them (heap.py), then start the reclaimer and
        the health server (ready from here on)."""
        frozen = freeze_startup_heap()
        log.info("start-up heap frozen", objects=frozen)
        state["reclaim_task"] = asyncio.create_task(state["reclaimer"].run(stop))
        if settings.health_port is not None:
            health = HealthServer(settings.health_host, settings.health_port, readiness, scrape)
            await health.start()
            state["health"] = health
            log.info("health server listening", port=health.port)

    @app.on_shutdown
    async def _stop_reclaimer() -> None:
        stop.set()
        task = state.get("reclaim_task")
        if task is not None:
            await asyncio.wait_for(task, timeout=settings.shutdown_timeout_s)

    @app.after_shutdown
    async def _stop() -> None:
        health = state.get("health")
        if health is not None:
            await health.stop()
        await stage.close()
        for name in ("redis", "transactions"):
            client = state.get(name)
            if client is not None:
                await client.aclose()
        log.info("stage stopped", consumer=consumer)

    return app
