"""The shared duplicate index in Redis: one atomic query-and-insert per batch (a Lua script).

Layout, per time slot (window / slots seconds; a slot's keys expire a window after it ends):

    {prefix}{slot}:rec   HASH  article ref (6 B) -> record: id, cluster, status, method,
                               similarity and, for unique articles, the packed signature
    {prefix}{slot}:fp    HASH  content fingerprint (12 B) -> article ref
    {prefix}{slot}:url   HASH  canonical-URL hash (6 B) -> article ref
    {prefix}{slot}:lsh   HASH  band number (1 B) + bucket id (4 B) -> article ref

Only unique articles (cluster roots) enter the LSH buckets and keep a signature, so memory is
spent on what later articles can match. A lookup reads the current slot and the ``slots``
before it. Because the whole batch is one script, two replicas can never both call the same
story unique, and articles of one batch see each other in order. On a cluster (or with
``redis_wait_replicas``) the call goes over the index slot's own connection and is followed by
WAIT (shared/outputs.py), so a promoted replica remembers what its primary answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from newsflow.dedup.minhash import Features
from newsflow.shared.outputs import OutputConnection

_SCRIPT = """
local threshold = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local nslots = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local nbands = tonumber(ARGV[5])
local nperm = tonumber(ARGV[6])

local function key(kind, s) return KEYS[(s - 1) * 4 + kind] end
-- Slots whose hash exists, per kind, looked up once per call (the current slot always counts:
-- articles of this batch are written there).
local live = {}
for kind = 1, 4 do
  live[kind] = {1}
  for s = 2, nslots do
    if redis.call('EXISTS', key(kind, s)) == 1 then table.insert(live[kind], s) end
  end
end
local function find(kind, field)
  for _, s in ipairs(live[kind]) do
    local v = redis.call('HGET', key(kind, s), field)
    if v then return v end
  end
  return false
end
local function fields(rec)
  local out = {}
  local start = 1
  for i = 1, 5 do
    local stop = string.find(rec, '\\n', start, true)
    out[i] = string.sub(rec, start, stop - 1)
    start = stop + 1
  end
  out[6] = string.sub(rec, start)
  if out[2] == '' then out[2] = out[1] end  -- a cluster root stores its id once
  return out
end
local byte = string.byte
local function jaccard(a, b)  -- 8-bit minimums; corrected for accidental agreement (1/256)
  local eq = 0
  for i = 1, nperm do
    if byte(a, i) == byte(b, i) then eq = eq + 1 end
  end
  local j = (eq / nperm - 1 / 256) / (1 - 1 / 256)
  if j < 0 then return 0 end
  return j
end
local function band(bands, b) return string.char(b) .. string.sub(bands, b * 4 + 1, b * 4 + 4) end

local results = {}
local pos = 7
for a = 1, n do
  local ref, id, fp, url, bands, sig =
    ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5]
  pos = pos + 6
  local previous = find(1, ref)
  if previous then
    results[a] = previous  -- replay: the answer it got the first time
  else
    local cluster, status, method, sim = id, 'unique', '', '1'
    local holder = false
    local fp_known = false
    if url ~= '' then
      holder = find(3, url)
      if holder then method = 'url' end
    end
    if not holder then
      holder = find(2, fp)
      fp_known = holder and true
      if holder then method = 'content' end
    end
    if holder then
      local rec = find(1, holder)
      if rec then
        cluster = fields(rec)[2]
        status = 'exact_duplicate'
      else
        method = ''
      end
    end
    if status == 'unique' then
      local seen, best, best_sim = {}, nil, -1
      for b = 0, nbands - 1 do
        local field = band(bands, b)
        for _, s in ipairs(live[4]) do
          local cand = redis.call('HGET', key(4, s), field)
          if cand and not seen[cand] then
            seen[cand] = true
            local rec = find(1, cand)
            if rec then
              local f = fields(rec)
              if f[6] ~= '' then
                local j = jaccard(sig, f[6])
                if j > best_sim then best_sim, best = j, f end
              end
            end
          end
        end
      end
      if best and best_sim >= threshold then
        cluster, status, method, sim = best[2], 'near_duplicate', 'minhash', tostring(best_sim)
      end
    end
    local stored = ''
    if status == 'unique' then stored = sig end
    local stored_cluster = cluster
    if cluster == id then stored_cluster = '' end
    local rec = table.concat({id, stored_cluster, status, method, sim, stored}, '\\n')
    redis.call('HSET', key(1, 1), ref, rec)
    if not fp_known then redis.call('HSETNX', key(2, 1), fp, ref) end
    if url ~= '' and not find(3, url) then redis.call('HSET', key(3, 1), url, ref) end
    if status == 'unique' then
      for b = 0, nbands - 1 do
        redis.call('HSETNX', key(4, 1), band(bands, b), ref)
      end
    end
    results[a] = rec
  end
end
for kind = 1, 4 do
  redis.call('EXPIRE', key(kind, 1), ttl)
end
return results
"""


@dataclass(frozen=True, slots=True)
class Decision:
    article_id: str
    cluster_id: str
    status: str  # unique | exact_duplicate | near_duplicate
    method: str  # "" | url | content | minhash
    similarity: float


def _parse(record: bytes) -> Decision:
    head = record.split(b"\n", 5)
    return Decision(
        article_id=head[0].decode(),
        cluster_id=(head[1] or head[0]).decode(),
        status=head[2].decode(),
        method=head[3].decode(),
        similarity=float(head[4]),
    )


class DuplicateIndex:
    def __init__(
        self,
        redis: Redis,
        *,
        key_prefix: str,
        window_seconds: int,
        slots: int,
        threshold: float,
        bands: int,
        num_perm: int,
        clock: Callable[[], float] = time.time,
        output: OutputConnection | None = None,
    ) -> None:
        self._redis = redis
        self._output = output
        self._prefix = key_prefix
        self.slot_seconds = max(1, window_seconds // slots)
        self._slots = slots
        self._ttl = window_seconds + self.slot_seconds
        self._threshold = threshold
        self._bands = bands
        self._num_perm = num_perm
        self._clock = clock
        self._script = redis.register_script(_SCRIPT)

    def slot_keys(self, slot: int) -> list[str]:
        return [f"{self._prefix}{slot}:{kind}" for kind in ("rec", "fp", "url", "lsh")]

    def keys(self, now: float | None = None) -> list[str]:
        current = int((now if now is not None else self._clock()) // self.slot_seconds)
        keys: list[str] = []
        for slot in range(current, current - self._slots - 1, -1):
            keys.extend(self.slot_keys(slot))
        return keys

    async def check_and_insert(
        self, items: Sequence[tuple[str, Features]], now: float | None = None
    ) -> list[Decision]:
        """One atomic call: for each (article id, features), in order, its decision."""
        if not items:
            return []
        argv: list[bytes | str | int | float] = [
            self._threshold,
            self._ttl,
            self._slots + 1,
            len(items),
            self._bands,
            self._num_perm,
        ]
        for article_id, f in items:
            argv += [f.ref, article_id, f.fingerprint, f.url, f.bands, f.signature]
        keys = self.keys(now)
        output = self._output
        if output is None:
            records = await self._script(keys=keys, args=argv)
            return [_parse(r) for r in records]
        async with output.session() as client:
            records = await self._script(keys=keys, args=argv, client=client)
        return [_parse(r) for r in records]

    async def close(self) -> None:
        if self._output is not None:
            await self._output.close()
