"""Redis-backed fingerprint index, shared by all dedup replicas."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis


class FingerprintStore:
    """Remembers which article first had each fingerprint, for ``window_seconds``.

    Each claim is one ``SET key id NX GET EX window``: atomic set-if-absent that also returns the
    current owner, so two replicas can never both see themselves as first. Claims of one batch go
    in one pipeline, executed in order, so identical texts within a batch resolve correctly too.
    """

    def __init__(self, redis: Redis, *, key_prefix: str, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._window = window_seconds

    def key(self, fp: str) -> str:
        return f"{self._prefix}{fp}"

    async def claim_many(self, claims: Sequence[tuple[str, str]]) -> list[str | None]:
        """For each (fingerprint, article_id): the previous owner, or None if this one is first."""
        if not claims:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for fp, article_id in claims:
            pipe.set(self.key(fp), article_id, nx=True, get=True, ex=self._window)
        results = await pipe.execute()
        return [r.decode() if isinstance(r, bytes) else r for r in results]
