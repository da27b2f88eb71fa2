"""``newsflow web``: the live page, a Starlette app served by uvicorn.

One background task reads Redis every ``NEWSFLOW_WEB_INTERVAL_S`` (feed.py) and every browser
gets its snapshots by server-sent events (``/api/events``): ``metrics`` at every tick,
``articles`` when new ones arrived. The page itself is static HTML, CSS and JavaScript (no build
step). Read-only: the app has no route that writes, and its Redis user (``web`` in the ACL
template) may only read. Logs name routes and counts, never article text."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from newsflow.cli.web.feed import LiveState
from newsflow.shared.redis_streams import connect
from newsflow.shared.settings import Settings

log = structlog.get_logger("newsflow.web")

KEEPALIVE_S = 15.0
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Hub:
    """Wakes every connected page when a tick has produced a new snapshot."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def publish(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class Poller:
    """Ticks the live state; a Redis outage is shown on the page and retried, never fatal."""

    def __init__(self, state: LiveState, hub: Hub, interval_s: float) -> None:
        self.state = state
        self.hub = hub
        self.interval_s = interval_s
        self.error: str | None = None
        self.last_ok: float | None = None

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.state.tick()
                if self.error is not None:
                    log.info("redis_reachable_again")
                self.error = None
                self.last_ok = time.monotonic()
            except (RedisError, OSError) as exc:
                if self.error is None:
                    log.warning("redis_unreachable", error=type(exc).__name__, detail=str(exc))
                self.error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a reply the page cannot read: shown, logged, retried
                log.exception("tick_failed", error=type(exc).__name__)
                self.error = f"{type(exc).__name__} while reading the pipeline (see the log)"
            self.hub.publish()
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    def metrics(self) -> dict[str, Any]:
        snapshot = {k: v for k, v in self.state.snapshot.items() if k != "articles"}
        age = None if self.last_ok is None else round(time.monotonic() - self.last_ok, 1)
        return {**snapshot, "error": self.error, "age_s": age, "interval_s": self.interval_s}

    def articles(self) -> dict[str, Any]:
        return {
            "version": self.state.articles_version,
            "articles": self.state.snapshot.get("articles", []),
        }

    def healthy(self) -> bool:
        return self.last_ok is not None and time.monotonic() - self.last_ok < max(
            10.0, 5 * self.interval_s
        )


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class SecurityHeaders:
    """Adds the page's security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_web_app(settings: Settings) -> Starlette:
    static = importlib.resources.files("newsflow.cli.web") / "static"

    def poller(request: Request) -> Poller:
        found: Poller = request.app.state.poller  # set by the lifespan, before any request
        return found

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # the client belongs to the server's event loop: made here, not at import or build time
        redis = connect(settings.redis_dsn(), cluster=settings.redis_cluster)
        app.state.poller = Poller(LiveState(redis, settings), Hub(), settings.web_interval_s)
        task = asyncio.create_task(app.state.poller.run())
        log.info(
            "web_started",
            host=settings.web_host,
            port=settings.web_port,
            redis=settings.redis_display(),
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await redis.aclose()

    async def index(_request: Request) -> Response:
        return FileResponse(str(static / "index.html"), headers={"Cache-Control": "no-cache"})

    async def api_metrics(request: Request) -> Response:
        return JSONResponse(poller(request).metrics())

    async def api_articles(request: Request) -> Response:
        return JSONResponse(poller(request).articles())

    async def api_story(request: Request) -> Response:
        story = poller(request).state.story(request.path_params["cluster_id"])
        if story is None:
            return JSONResponse({"error": "no article of this story among the latest"}, 404)
        return JSONResponse(story)

    async def api_events(request: Request) -> Response:
        p = poller(request)

        async def stream() -> AsyncIterator[bytes]:
            sent_articles: int | None = None
            yield b"retry: 2000\n\n"
            while True:
                yield _sse("metrics", p.metrics())
                if p.state.articles_version != sent_articles:
                    sent_articles = p.state.articles_version
                    yield _sse("articles", p.articles())
                if not await p.hub.wait(KEEPALIVE_S):
                    yield b": keepalive\n\n"

        log.info("page_connected", client=request.client.host if request.client else None)
        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def healthz(request: Request) -> Response:
        p = poller(request)
        ok = p.healthy()
        return JSONResponse({"ok": ok, "error": p.error}, status_code=200 if ok else 503)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/metrics", api_metrics),
            Route("/api/articles", api_articles),
            Route("/api/story/{cluster_id:path}", api_story),
            Route("/api/events", api_events),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    return app


def serve(settings: Settings) -> None:
    """Run the page until SIGINT/SIGTERM (uvicorn handles both)."""
    import uvicorn

    config = uvicorn.Config(
        create_web_app(settings),
        host=settings.web_host,
        port=settings.web_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again under the
    # handlers it found: with these, the process then ends with 0 like the stages do.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: None)
    uvicorn.Server(config).run()
    log.info("web_stopped")
