"""Liveness and readiness over HTTP, for orchestrators (compose healthchecks, Kubernetes probes).

``GET /livez``  200 while the process's event loop answers.
``GET /readyz`` 200 when Redis answers, the consumer group exists, the subscriber is running and
                the stage has started (models loaded); else 503 with the failing checks as JSON.
``GET /metrics`` Prometheus text format (see metrics.py).

A deliberately small HTTP/1.1 server on asyncio streams: no extra dependency in the images.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

Check = Callable[[], Awaitable[dict[str, bool]]]
Metrics = Callable[[], Awaitable[bytes]]
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    def __init__(
        self, host: str, port: int, readiness: Check, metrics: Metrics | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.readiness = readiness
        self.metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        sockets = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b""):
                pass
            body: dict[str, Any]
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            if path == "/metrics" and self.metrics is not None:
                text = await asyncio.wait_for(self.metrics(), timeout=5)
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Type: {METRICS_CONTENT_TYPE}\r\n"
                    f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n".encode()
                    + text
                )
                await writer.drain()
                return
            if path == "/livez":
                status, body = 200, {"live": True}
            elif path == "/readyz":
                body_error: str | None = None
                try:
                    checks = await asyncio.wait_for(self.readiness(), timeout=3)
                except Exception as exc:
                    checks = {"check_error": False}
                    body_error = type(exc).__name__
                ready = all(checks.values())
                status = 200 if ready else 503
                body = {"ready": ready, "checks": checks}
                if body_error:
                    body["error"] = body_error
            else:
                status, body = 404, {"error": "not found"}
            payload = json.dumps(body).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
