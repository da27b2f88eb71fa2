"""``newsflow demo``: the whole pipeline on a private Redis with bundled sample articles.

``--cluster``: on a private local Redis Cluster instead (3 primaries, 3 replicas), with one
partition per primary; the samples' copies land on other partitions than their originals and
are caught all the same.

``--web``: the live page (``newsflow web``, as its own process like compose's "web" service)
follows the demo, and the pipeline keeps running after it until Ctrl-C, for more articles to
be published to it."""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console

from newsflow.cli.inputs import read_stream
from newsflow.cli.render import enriched_table, print_events
from newsflow.cli.services import SERVICES, ServiceGroup
from newsflow.cli.streams_io import read_events
from newsflow.shared.local_cluster import LocalCluster
from newsflow.shared.local_redis import LocalRedis
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.redis_streams import session, total_length
from newsflow.shared.settings import Settings

CLUSTER_PARTITIONS = 3  # one per primary of the local cluster
# A raw entry that is not even JSON: the dedup stage dead-letters it with the reason.
MALFORMED_ENTRY = {"article": '{"title": "truncated upload", "text": "Half an arti'}


def sample_articles() -> str:
    resource = importlib.resources.files("newsflow.cli") / "samples" / "demo.jsonl"
    return resource.read_text(encoding="utf-8")


def _tail_log(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _wait_for(
    settings: Settings, want_outputs: int, want_dlq: int, group: ServiceGroup, timeout: float
) -> None:
    async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:

        async def length(name: str) -> int:
            return await total_length(redis, settings.partition_streams(name))

        deadline = time.monotonic() + timeout
        while True:
            done = await length("enriched") + await length("duplicates")
            dlq = await length("dlq")
            if done >= want_outputs and dlq >= want_dlq:
                return
            dead = {name: code for name, code in group.poll().items() if code is not None}
            if dead:
                raise RuntimeError(f"service(s) exited early: {dead}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"after {timeout:.0f}s: {done}/{want_outputs} articles out, "
                    f"{dlq}/{want_dlq} dead letters"
                )
            await asyncio.sleep(0.2)


async def _collect(settings: Settings, name: str) -> list[dict[str, object]]:
    """Every partition's events of stream ``name``, partition by partition."""
    async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
        return [
            e
            for stream in settings.partition_streams(name)
            async for _, e in read_events(redis, stream, from_start=True, count=None, timeout=0.3)
        ]


async def _publish(settings: Settings) -> tuple[int, int]:
    import io

    async with ArticlePublisher.connect(settings) as pub:
        report = await pub.publish(read_stream(io.StringIO(sample_articles()), "demo.jsonl"))
        raw = settings.partition(0).streams.raw
        await pub.redis.xadd(raw, MALFORMED_ENTRY)  # type: ignore[arg-type]
    return report.published + 1, len(report.rejected)


async def _cleanup_prefix(settings: Settings) -> None:
    async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
        # partitioned names carry a hash tag after the prefix: "demo-1.{p0.0}articles.raw"
        for pattern in (f"{settings.stream_prefix}*articles.*", f"{settings.key_prefix}*"):
            async for key in redis.scan_iter(match=pattern, count=500):
                await redis.delete(key)


def _serve_until_interrupted(group: ServiceGroup) -> None:
    """Keep the pipeline and the page up until Ctrl-C (or SIGTERM), or one of them exits."""

    def _stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        group.wait_any()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(
    base: Settings,
    console: Console,
    *,
    timeout: float = 180.0,
    cluster: bool = False,
    web_port: int | None = None,
) -> int:
    external = "NEWSFLOW_REDIS_URL" in os.environ and not cluster
    local: LocalRedis | LocalCluster | None = None
    if cluster:
        local = LocalCluster().start()
        settings = base.model_copy(
            update={
                "redis_url": local.url,
                "redis_cluster": True,
                "partitions": CLUSTER_PARTITIONS,
            }
        )
        console.print(
            f"Started a private Redis Cluster (3 primaries, 3 replicas, ports "
            f"{local.ports[0]}-{local.ports[-1]}) with {CLUSTER_PARTITIONS} partitions"
        )
    elif external:
        tag = uuid.uuid4().hex[:8]
        settings = base.model_copy(
            update={"stream_prefix": f"demo-{tag}.", "key_prefix": f"newsflow-demo-{tag}:"}
        )
        console.print(f"Using NEWSFLOW_REDIS_URL with stream prefix {settings.stream_prefix!r}")
    else:
        local = LocalRedis().start()
        settings = base.model_copy(update={"redis_url": local.url})
        console.print(f"Started a private Redis ({local.binary}) on port {local.port}")

    log_dir = Path(tempfile.mkdtemp(prefix="newsflow-demo-logs-"))
    env = {
        "NEWSFLOW_REDIS_URL": settings.redis_url,
        "NEWSFLOW_STREAM_PREFIX": settings.stream_prefix,
        "NEWSFLOW_KEY_PREFIX": settings.key_prefix,
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_REDIS_CLUSTER": str(settings.redis_cluster).lower(),
        "NEWSFLOW_PARTITIONS": str(settings.partitions),
    }
    group = ServiceGroup(SERVICES, env=env, log_dir=log_dir).start()
    console.print(f"Started services {', '.join(SERVICES)} (logs in {log_dir})")
    if web_port is not None:  # as compose's "web" service runs it
        group.add("web", ["newsflow", "web"], {"NEWSFLOW_WEB_PORT": str(web_port)})
        console.print(f"The live page: http://{settings.web_host}:{web_port}/")
    started = time.monotonic()
    try:
        published, rejected = asyncio.run(_publish(settings))
        console.print(
            f"Published {published} raw entries; {rejected} article(s) rejected at publish time"
        )
        with console.status("Waiting for the pipeline (the entity service loads its models)…"):
            asyncio.run(_wait_for(settings, published - 1, rejected + 1, group, timeout))
        enriched = asyncio.run(_collect(settings, "enriched"))
        duplicates = asyncio.run(_collect(settings, "duplicates"))
        dead = asyncio.run(_collect(settings, "dlq"))
        console.print(enriched_table(enriched))
        print_events(console, "articles.duplicates", duplicates)
        print_events(console, "articles.dlq", dead)
        console.print(
            f"\nDone in {time.monotonic() - started:.1f}s: {len(enriched)} enriched, "
            f"{len(duplicates)} duplicates, {len(dead)} dead letters."
        )
        if web_port is not None:
            defaults = {"", "newsflow:", "false", "1", "json"}
            hint = " ".join(f"{k}={v}" for k, v in env.items() if v not in defaults)
            console.print(
                f"\nThe pipeline and the live page (http://{settings.web_host}:{web_port}/) keep "
                f"running; publish more with\n  {hint} newsflow publish FILE\nCtrl-C stops them.",
                markup=False,
                soft_wrap=True,
            )
            _serve_until_interrupted(group)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]demo failed: {exc}[/]")
        for name in SERVICES:
            console.print(f"--- {name} log ---\n{_tail_log(log_dir / f'{name}.log')}")
        return 1
    finally:
        codes = group.stop()
        if any(codes.values()):
            console.print(f"[yellow]service exit codes: {codes}[/]")
        if external:
            asyncio.run(_cleanup_prefix(settings))
        if local is not None:
            local.stop()
