"""Where a partition's output transactions are written, and the WAIT that makes them durable.

A stage writes a batch's outputs, dead letters and XACK in one MULTI/EXEC (stage.py). On a
Redis Cluster those keys share the partition's hash tag, so the transaction is sent to the one
primary serving that slot. ``WAIT n`` then blocks until ``n`` replicas hold every write made
*on that connection*, so the transaction and the WAIT must go over the same connection: each
partition gets a client with a pool of exactly one connection, used under a lock.

What WAIT buys: Redis replicates asynchronously, and a primary killed before its replica has
the transaction loses outputs and acknowledgement together (MULTI/EXEC replicates as a unit),
so the entry is read again after the failover: nothing is lost even without WAIT. But an
output another consumer already read from the dead primary would be delivered a second time,
and a publisher's XADD could be lost outright. With WAIT the primary's answer is only taken
as final once a replica has it. A confirmation short of ``n`` (no replica up, or slower than
the timeout) is logged and counted, and the pipeline carries on: it prefers availability to
blocking on a lost replica. A primary without its replica (just promoted by a failover) is
asked only for the replicas it has, so its batches do not each wait out the timeout. A
connection that broke between EXEC and WAIT cannot confirm what the old connection wrote
(WAIT answers for the new one): that WAIT is reported as unconfirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from newsflow.shared.redis_streams import SOCKET_TIMEOUT_S, OutageRetry, _hiredis_packing
from newsflow.shared.settings import Settings

REPLICA_RECHECK_S = 5.0


def node_url(dsn: str, host: str, port: int) -> str:
    """``dsn`` (credentials, scheme, TLS options) pointed at one node."""
    parts = urlsplit(dsn)
    userinfo = parts.netloc.rpartition("@")[0]
    host_text = f"[{host}]" if ":" in host else host
    netloc = f"{userinfo}@{host_text}:{port}" if userinfo else f"{host_text}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _single_connection_client(url: str) -> Redis:
    """A client over one connection (a transaction and its WAIT share it). Connection errors
    are retried like the stage's transaction client; timeouts never (see redis_streams)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=1,
        timeout=None,
        decode_responses=False,
        socket_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )
    pool.connection_class = _hiredis_packing(pool.connection_class)
    retry: Retry = OutageRetry(
        ExponentialWithJitterBackoff(cap=1.0, base=0.1),
        retries=4,
        supported_errors=(RedisConnectionError,),
    )
    return Redis(connection_pool=pool, retry=retry)


class OutputConnection:
    """The client a partition's output transactions go to, kept on the slot's primary."""

    def __init__(self, settings: Settings, redis: Redis, key: str) -> None:
        self.settings = settings
        self.redis = redis  # the stage's own client (a RedisCluster in cluster mode)
        self.key = key  # any key of the partition: they all hash to its slot
        self.replicas = settings.wait_replicas
        self.timeout_ms = settings.redis_wait_timeout_ms
        self.lock = asyncio.Lock()
        self._client: Redis | None = None
        self._node: tuple[str, int] | None = None
        self.short_confirmations = 0
        self._connected = self.replicas
        self._recheck_at = 0.0
        self.log = structlog.get_logger("newsflow.outputs")

    async def client(self) -> Redis:
        """The client for the next transaction (call with :attr:`lock` held)."""
        if isinstance(self.redis, RedisCluster):
            await self.redis.initialize()  # learns the slot map once; a no-op afterwards
            node = self.redis.get_node_from_key(self.key)
            where = (node.host, int(node.port))
        else:
            where = ("", 0)
        if self._client is None or where != self._node:
            await self.close()
            dsn = self.settings.redis_dsn()
            url = node_url(dsn, *where) if where[0] else dsn
            self._client = _single_connection_client(url)
            self._node = where
            self._recheck_at = 0.0  # another node: its replicas are counted again
        return self._client

    async def confirm(self, client: Redis) -> int | None:
        """WAIT for the configured replicas after a transaction; None when none are asked.

        A primary with fewer connected replicas than asked (right after a failover, until the
        old primary comes back as a replica) would make every WAIT last its whole timeout: then
        WAIT asks only for the replicas that are connected (none: no WAIT), the connection is
        counted as short, and the replica count is looked up again every
        :data:`REPLICA_RECHECK_S` seconds."""
        if self.replicas <= 0:
            return None
        now = time.monotonic()
        if now >= self._recheck_at:
            self._connected = await self._connected_replicas(client)
            self._recheck_at = now + REPLICA_RECHECK_S
            if self._connected < self.replicas:
                self.log.warning(
                    "fewer replicas connected than WAIT asks for: outputs are confirmed by "
                    "the connected ones only",
                    asked=self.replicas,
                    connected=self._connected,
                )
        asked = min(self.replicas, self._connected)
        confirmed = 0
        if asked > 0:
            try:
                confirmed = int(await client.wait(asked, self.timeout_ms))
            except RedisError as exc:
                self.log.warning("WAIT failed: outputs not confirmed", error=str(exc)[:200])
        if confirmed < self.replicas:
            self.short_confirmations += 1
            if asked > 0 and confirmed < asked:
                self._recheck_at = 0.0  # a replica may have gone: look again next time
                self.log.warning(
                    "outputs confirmed by fewer replicas than asked",
                    asked=asked,
                    confirmed=confirmed,
                    timeout_ms=self.timeout_ms,
                )
        return confirmed

    async def _connected_replicas(self, client: Redis) -> int:
        try:
            info = await client.info("replication")
        except RedisError:
            return self.replicas  # unknown: ask for all, WAIT's timeout bounds it
        return int(info.get("connected_slaves", 0))

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Redis]:
        """The connection, held under the lock for one write: :meth:`lost` when the block
        raises, :meth:`confirm` (WAIT) when it ends."""
        async with self.lock:
            client = await self.client()
            try:
                yield client
            except Exception:
                await self.lost()
                raise
            await self.confirm(client)

    async def lost(self) -> None:
        """After a failed transaction: drop the connection and, on a cluster, reload the slot
        map (the slot may have moved, or its primary died and a replica is taking over)."""
        await self.close()
        self._recheck_at = 0.0  # a new primary: its replicas are counted again
        if isinstance(self.redis, RedisCluster):
            try:
                await self.redis.nodes_manager.initialize()
            except Exception as exc:  # the cluster may still be electing: next batch retries
                self.log.warning("slot map not reloaded", error=str(exc)[:200])

    async def close(self) -> None:
        if self._client is not None:
            client, self._client, self._node = self._client, None, None
            await client.aclose()
            await client.connection_pool.disconnect()
