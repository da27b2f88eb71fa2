"""The ``newsflow`` command line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsflow.cli.inputs import read_inputs
from newsflow.cli.render import event_summary
from newsflow.cli.services import SERVICES, ServiceGroup
from newsflow.cli.status import StreamStatus, collect_status, status_as_dict, status_table
from newsflow.cli.streams_io import read_many
from newsflow.shared.dlq import list_letters, replay
from newsflow.shared.publisher import ArticlePublisher
from newsflow.shared.redis_streams import session
from newsflow.shared.settings import Settings, load_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="newsflow: news enrichment pipeline on Redis Streams (dedup, language, entities).",
)
console = Console()
err_console = Console(stderr=True)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main(ctx: typer.Context) -> None:
    """Settings come from NEWSFLOW_* environment variables (see README)."""
    try:
        ctx.obj = load_settings()
    except Exception as exc:  # a clear message instead of a traceback
        err_console.print(f"[red]invalid configuration:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def publish(
    ctx: typer.Context,
    files: Annotated[
        list[str] | None,
        typer.Argument(help="JSONL, JSON (array or object) or .txt files; '-' for stdin."),
    ] = None,
) -> None:
    """Publish articles to articles.raw; invalid ones go to the DLQ and are reported."""
    settings = _settings(ctx)
    candidates = list(read_inputs(files or ["-"], sys.stdin))

    async def _run() -> None:
        with Progress(
            TextColumn("publishing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        ) as progress:
            task = progress.add_task("publish", total=len(candidates), rate="")

            def advance(n: int) -> None:
                progress.advance(task, n)
                elapsed = progress.tasks[0].elapsed or 0.0
                done = progress.tasks[0].completed
                if elapsed > 0:
                    progress.update(task, rate=f"{done / elapsed:,.0f}/s")

            async with ArticlePublisher.connect(settings) as pub:
                report = await pub.publish(candidates, on_progress=advance)
        console.print(
            f"published {report.published} to {settings.streams.raw}, "
            f"rejected {len(report.rejected)} (sent to {settings.streams.dlq})"
        )
        for origin, reason in report.rejected:
            console.print(f"  rejected {origin}: {reason}", markup=False)

    asyncio.run(_run())


@app.command()
def tail(
    ctx: typer.Context,
    stream: Annotated[
        str, typer.Argument(help="Stream: enriched, duplicates, dlq, … or full name")
    ],
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Read from the beginning.")
    ] = False,
    count: Annotated[int | None, typer.Option("--count", "-n", help="Exit after N events.")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", "-t", help="Exit after S seconds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One full event JSON per line.")] = False,
) -> None:
    """Print events of a stream as they arrive."""
    settings = _settings(ctx)
    names = settings.partition_streams(stream)

    async def _run() -> None:
        async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
            async for _stream, _entry_id, event in read_many(
                redis, names, from_start=from_start, count=count, timeout=timeout
            ):
                if as_json:
                    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                else:
                    console.print(event_summary(event))

    try:
        asyncio.run(_run())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    watch: Annotated[
        float, typer.Option("--watch", help="Refresh every SECONDS (Ctrl-C to stop); 0: once.")
    ] = 0.0,
) -> None:
    """Per stream: length; per consumer group: lag, pending (and the oldest pending entry's
    age), throughput over the last minute, consumers and their idle times; the DLQ size."""
    settings = _settings(ctx)

    async def _once() -> list[StreamStatus]:
        async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
            return await collect_status(redis, settings)

    def _show(streams: list[StreamStatus]) -> None:
        if as_json:
            sys.stdout.write(json.dumps(status_as_dict(streams)) + "\n")
            sys.stdout.flush()
            return
        console.print(status_table(streams, settings))

    if watch <= 0:
        _show(asyncio.run(_once()))
        return
    try:
        while True:
            streams = asyncio.run(_once())
            if not as_json:
                console.clear()
            _show(streams)
            time.sleep(watch)  # the refresh interval the user asked for
    except KeyboardInterrupt:
        pass


@app.command()
def web(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default NEWSFLOW_WEB_HOST: localhost).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default NEWSFLOW_WEB_PORT: 8000).")
    ] = None,
) -> None:
    """A live page of the pipeline: per stage throughput, lag, pending and dead letters, and
    the latest enriched articles with their language, dedup verdict and entities. Read-only."""
    from newsflow.cli.web.server import serve
    from newsflow.shared.logging import configure_logging

    settings = _settings(ctx)
    overrides = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(settings, service="web")
    err_console.print(f"newsflow web on http://{settings.web_host}:{settings.web_port}/")
    serve(settings)


cluster_app = typer.Typer(
    no_args_is_help=True, help="A local Redis Cluster for development (redis-server processes)."
)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("up")
def cluster_up(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the nodes keep their data, logs and pid files.")
    ] = Path(".cluster"),
    base_port: Annotated[int, typer.Option(help="Ports BASE..BASE+5 (and +10000).")] = 7000,
) -> None:
    """Start 6 nodes on loopback (3 primaries, 3 replicas) and join them; they keep running
    after this command returns. Prints the URL for NEWSFLOW_REDIS_URL."""
    from newsflow.shared.local_cluster import LocalCluster

    cluster = LocalCluster(base_port=base_port, directory=directory)
    cluster.start()
    console.print(
        f"cluster up: {cluster.url} (NEWSFLOW_REDIS_CLUSTER=true); "
        f"`newsflow cluster down --dir {directory}` stops it"
    )


@cluster_app.command("down")
def cluster_down(
    directory: Annotated[Path, typer.Option("--dir", help="The directory given to `up`.")] = Path(
        ".cluster"
    ),
    keep: Annotated[bool, typer.Option(help="Keep the nodes' data (default: remove it).")] = False,
) -> None:
    """Stop the nodes started by `newsflow cluster up`."""
    import shutil

    from newsflow.shared.local_cluster import stop_detached

    stopped = stop_detached(directory)
    if not keep:
        shutil.rmtree(directory, ignore_errors=True)
    console.print(f"stopped {len(stopped)} node(s)")


dlq_app = typer.Typer(no_args_is_help=True, help="Inspect and replay the dead-letter stream.")
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option(help="Only letters of this stage.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One letter JSON per line.")] = False,
) -> None:
    """One line per dead letter: entry id, stage, article id, attempts, reason (and its
    partition's DLQ when there are several)."""
    settings = _settings(ctx)
    dlqs = settings.partition_streams("dlq")

    async def _run() -> None:
        async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
            letters = await list_letters(redis, dlqs, stage=stage, limit=limit)
        if as_json:
            for s in letters:
                body = s.letter.model_dump(mode="json") if s.letter else {"fields": s.raw}
                sys.stdout.write(json.dumps({"entry_id": s.entry_id, "dlq": s.dlq, **body}) + "\n")
            return
        title = dlqs[0] if len(dlqs) == 1 else f"{len(dlqs)} partitions' dead-letter streams"
        table = Table(title=f"{title}: {len(letters)} letter(s)")
        for col in ("entry", "stage", "article", "attempts", "from", "reason"):
            table.add_column(col, overflow="fold")
        for s in letters:
            entry = s.entry_id if len(dlqs) == 1 else f"{s.dlq} {s.entry_id}"
            if s.letter is None:
                table.add_row(entry, "?", "", "", "", "unreadable dead letter")
                continue
            lt = s.letter
            table.add_row(
                entry,
                lt.stage,
                lt.article_id or "",
                "" if lt.attempts is None else str(lt.attempts),
                f"{lt.original_stream} {lt.original_id}",
                lt.reason,
            )
        console.print(table)

    asyncio.run(_run())


@dlq_app.command("show")
def dlq_show(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(help="The dead letter's entry id.")],
) -> None:
    """The whole dead letter as JSON, original payload included (with partitions: every
    letter of that entry id, one per partition's DLQ that has one)."""
    settings = _settings(ctx)
    dlqs = settings.partition_streams("dlq")

    async def _run() -> int:
        async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
            found = await list_letters(redis, dlqs, ids=[entry_id])
        if not found:
            err_console.print(f"no dead letter {entry_id} in {', '.join(dlqs)}")
            return 1
        for s in found:
            body = s.letter.model_dump(mode="json") if s.letter else {"fields": s.raw}
            doc = {"entry_id": s.entry_id, "dlq": s.dlq, **body}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0

    raise typer.Exit(asyncio.run(_run()))


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option(help="Replay the letters of this stage.")] = None,
    ids: Annotated[
        list[str] | None, typer.Option("--ids", help="Replay these entry ids (repeatable).")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every letter.")] = False,
) -> None:
    """Put letters back on the stream they came from; each leaves the DLQ once re-published."""
    settings = _settings(ctx)
    if not (stage or ids or replay_all):
        err_console.print("say which letters: --stage S, --ids ID (repeatable) or --all")
        raise typer.Exit(2)

    async def _run() -> None:
        async with session(settings.redis_dsn(), cluster=settings.redis_cluster) as redis:
            letters = await list_letters(
                redis, settings.partition_streams("dlq"), stage=stage, ids=ids
            )
            report = await replay(redis, letters)
        for old, stream, new in report.replayed:
            console.print(f"replayed {old} -> {stream} {new}")
        for old, why in report.skipped:
            console.print(f"skipped {old}: {why}")
        console.print(f"replayed {len(report.replayed)}, skipped {len(report.skipped)}")

    asyncio.run(_run())


@app.command()
def run(
    service: Annotated[str, typer.Argument(help="dedup | language | entity | all")],
) -> None:
    """Run services in the foreground (all = the three as separate processes)."""
    services = list(SERVICES) if service == "all" else [service]
    if any(s not in SERVICES for s in services):
        err_console.print(f"[red]unknown service {service!r}[/]: use {', '.join(SERVICES)} or all")
        raise typer.Exit(2)
    group = ServiceGroup(services).start()
    stopping = False

    def _forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _forward)
    try:
        name, code = group.wait_any()
        err_console.print(f"service {name} exited with code {code}; stopping the others")
    except KeyboardInterrupt:
        code = 0
    codes = group.stop()
    raise typer.Exit(code if not stopping else max(codes.values(), default=0))


@app.command()
def demo(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the pipeline.")] = 180.0,
    cluster: Annotated[
        bool, typer.Option(help="On a private local Redis Cluster (3+3 nodes, 3 partitions).")
    ] = False,
    web: Annotated[
        bool,
        typer.Option(
            help="With the live page (newsflow web on NEWSFLOW_WEB_PORT); keeps running after "
            "the results until Ctrl-C."
        ),
    ] = False,
) -> None:
    """Run the pipeline on a private Redis with bundled sample articles and print the results."""
    from newsflow.cli.demo import run_demo

    settings = _settings(ctx)
    port = settings.web_port if web else None
    raise typer.Exit(run_demo(settings, console, timeout=timeout, cluster=cluster, web_port=port))


if __name__ == "__main__":
    app()
