"""The shared duplicate index in Redis: one atomic query-and-insert per batch (a Lua script).

Layout, per time slot (window / slots seconds; a slot's keys expire a window after it ends):

    {prefix}{slot}:rec   HASH  article ref (6 B) -> record: id, cluster, status, method,
                               similarity and, for unique articles, the packed signature
    {prefix}{slot}:fp    HASH  content fingerprint (12 B) -> article ref
    {prefix}{slot}:url   HASH  canonical-URL hash (6 B) -> article ref
    {prefix}{slot}:lsh   HASH  band number (1 B) + bucket id (4 B) -> article ref

Only unique articles (cluster roots) enter the LSH buckets and keep a signature, so memory is
spent on what later articles can match. A lookup reads the current slot and the ``slots``
before it. Articles of one batch see each other in order.

On one node the script reads every slot and writes the current one: because the whole batch is
one script, two replicas can never both call the same story unique.

On a cluster (``spread``) each slot is under its own hash tag (``{prefix}{{slot}}:rec``), so the
window, and its memory, is spread over the primaries; a script cannot read other slots' keys,
so the caller reads the older slots first (two pipelined rounds) and hands the script what they
hold. The script still decides atomically against the current slot, where every concurrent
batch writes: replicas racing on copies still agree. What it accepts: at a slot boundary, a
batch still writing into the old slot is missed by a batch that already read it; the window is
the batch's own duration plus the clock skew between replicas, once per slot (a day by default).
The call goes over the current slot's own connection and is followed by WAIT (shared/outputs.py),
so a promoted replica remembers what its primary answered; ``redis_wait_replicas`` on one node
does the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
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
-- With priors (ARGV[7] == 1), each article comes with what its older slots hold, looked up by
-- the caller (those slots live under other hash tags): its own record, the records its URL and
-- fingerprint point to, and its best near match there with the estimated similarity.
local priors = tonumber(ARGV[7]) == 1
local stride = 6
if priors then stride = 11 end
local pos = 8
for a = 1, n do
  local ref, id, fp, url, bands, sig =
    ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5]
  local p_rec, p_url, p_fp, p_near, p_sim = '', '', '', '', ''
  if priors then
    p_rec, p_url, p_fp, p_near, p_sim =
      ARGV[pos + 6], ARGV[pos + 7], ARGV[pos + 8], ARGV[pos + 9], ARGV[pos + 10]
  end
  pos = pos + stride
  local previous = find(1, ref)
  if not previous and p_rec ~= '' then previous = p_rec end
  if previous then
    results[a] = previous  -- replay: the answer it got the first time
  else
    local cluster, status, method, sim = id, 'unique', '', '1'
    local holder_rec = false
    local fp_known = false
    if url ~= '' then
      local holder = find(3, url)
      if holder then holder_rec = find(1, holder) elseif p_url ~= '' then holder_rec = p_url end
      if holder_rec then method = 'url' end
    end
    if not holder_rec then
      local holder = find(2, fp)
      fp_known = (holder and true) or p_fp ~= ''
      if holder then holder_rec = find(1, holder) elseif p_fp ~= '' then holder_rec = p_fp end
      if holder_rec then method = 'content' end
    end
    if holder_rec then
      cluster = fields(holder_rec)[2]
      status = 'exact_duplicate'
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
      if p_near ~= '' and tonumber(p_sim) > best_sim then
        best_sim, best = tonumber(p_sim), fields(p_near)
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
    if url ~= '' and p_url == '' and not find(3, url) then
      redis.call('HSET', key(3, 1), url, ref)
    end
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


# How long after a slot boundary the previous slot is still read when missing: a batch begun
# before the boundary (or on a host whose clock lags) may still be writing there.
ABSENT_AFTER_S = 60.0


def jaccard(a: bytes, b: bytes, num_perm: int) -> float:
    """The script's similarity estimate of two packed signatures (8-bit minimums, corrected for
    accidental agreement), for matches the caller finds in older slots."""
    x = np.frombuffer(a, dtype=np.uint8, count=num_perm)
    y = np.frombuffer(b, dtype=np.uint8, count=num_perm)
    j = (int(np.count_nonzero(x == y)) / num_perm - 1 / 256) / (1 - 1 / 256)
    return max(j, 0.0)


def slot_keys(prefix: str, slot: int, *, spread: bool) -> list[str]:
    """The four keys of one time slot; ``spread``: under the slot's own hash tag."""
    name = f"{{{slot}}}" if spread else str(slot)
    return [f"{prefix}{name}:{kind}" for kind in ("rec", "fp", "url", "lsh")]


def _signature(record: bytes) -> bytes:
    return record.split(b"\n", 5)[5]


def _band_field(bands: bytes, b: int) -> bytes:
    return bytes((b,)) + bands[b * 4 : b * 4 + 4]


class DuplicateIndex:
    """``spread=False``: every slot under the key prefix, all read and written by one script
    (one node). ``spread=True`` (a cluster): each time slot under its own hash tag, so the
    window's slots, and their memory, are spread over the cluster's primaries; the script runs
    on the current slot and is given what the older slots hold (:meth:`_priors`)."""

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
        spread: bool = False,
    ) -> None:
        self._redis = redis
        self._output: OutputConnection | None = None
        self._prefix = key_prefix
        self.spread = spread
        self.slot_seconds = max(1, window_seconds // slots)
        self._slots = slots
        self._ttl = window_seconds + self.slot_seconds
        self._threshold = threshold
        self._bands = bands
        self._num_perm = num_perm
        self._clock = clock
        self._script = redis.register_script(_SCRIPT)
        self._absent: set[int] = set()  # older slots found missing (spread): not read again
        self._absent_for: int | None = None  # the current slot that holds for

    def slot_keys(self, slot: int) -> list[str]:
        return slot_keys(self._prefix, slot, spread=self.spread)

    def current_slot(self, now: float | None = None) -> int:
        return int((now if now is not None else self._clock()) // self.slot_seconds)

    def keys(self, now: float | None = None) -> list[str]:
        """The keys one script call reads: the current slot's, then (one node) the older ones."""
        return self._keys_of(self.current_slot(now))

    def _keys_of(self, current: int) -> list[str]:
        if self.spread:
            return self.slot_keys(current)
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
        at = now if now is not None else self._clock()  # read once: see _keys_of below
        current = self.current_slot(at)
        argv: list[bytes | str | int | float] = [
            self._threshold,
            self._ttl,
            1 if self.spread else self._slots + 1,
            len(items),
            self._bands,
            self._num_perm,
            1 if self.spread else 0,
        ]
        priors = await self._priors(items, current, at) if self.spread else None
        for k, (article_id, f) in enumerate(items):
            argv += [f.ref, article_id, f.fingerprint, f.url, f.bands, f.signature]
            if priors is not None:
                argv += priors[k]
        keys = self._keys_of(current)  # the slot the priors were read for, not the clock's
        output = self._output
        if output is None:
            records = await self._script(keys=keys, args=argv)
            return [_parse(r) for r in records]
        output.key = keys[0]  # the current slot's primary (the slot changes with time)
        async with output.session() as client:
            records = await self._script(keys=keys, args=argv, client=client)
        return [_parse(r) for r in records]

    async def _priors(
        self, items: Sequence[tuple[str, Features]], current: int, at: float
    ) -> list[list[bytes | str]]:
        """What the older slots hold for each article, newest slot first, as the script would
        find it there: its own record (a replay), the records its URL and its fingerprint point
        to, and its best near match (record, similarity). Two pipelined rounds over the slots'
        nodes; a slot that does not exist answers nothing.

        The race this accepts: a batch still writing into the previous slot (begun before the
        slot changed, or on a host whose clock lags) is not seen by a batch already on the new
        slot that read the previous one first. Only copies processed within that moment of
        each other, at a slot boundary, can both be called unique."""
        feats = [f for _, f in items]
        if self._absent_for != current:  # a new slot: the older ones are looked at again
            self._absent, self._absent_for = set(), current
        older = range(current - 1, current - self._slots - 1, -1)
        looked = [s for s in older if s not in self._absent]
        if not looked:  # every older slot known missing: nothing to read
            return [[b"", b"", b"", b"", ""] for _ in feats]
        old = [self.slot_keys(s) for s in looked]
        fields = [_band_field(f.bands, b) for f in feats for b in range(self._bands)]
        pipe = self._redis.pipeline(transaction=False)
        for rec, fp, url, lsh in old:
            pipe.exists(rec)
            pipe.hmget(rec, [f.ref for f in feats])
            pipe.hmget(url, [f.url for f in feats])
            pipe.hmget(fp, [f.fingerprint for f in feats])
            pipe.hmget(lsh, fields)
        first = await pipe.execute()
        # A missing slot is not read again while this slot lasts, except the previous one
        # within ABSENT_AFTER_S of the boundary (a late batch may still be writing there).
        settled = at - current * self.slot_seconds > ABSENT_AFTER_S
        for slot, exists in zip(looked, first[0::5], strict=True):
            if not exists and (slot < current - 1 or settled):
                self._absent.add(slot)
        own, urls, fps, buckets = first[1::5], first[2::5], first[3::5], first[4::5]
        holders = {ref for replies in (*urls, *fps, *buckets) for ref in replies if ref is not None}
        records: dict[bytes, bytes] = {}
        if holders:
            wanted = sorted(holders)
            pipe = self._redis.pipeline(transaction=False)
            for rec, *_ in old:
                pipe.hmget(rec, wanted)
            for replies in reversed(await pipe.execute()):  # newest slot last: it wins
                records.update((r, v) for r, v in zip(wanted, replies, strict=True) if v)
        out: list[list[bytes | str]] = []
        for k, f in enumerate(feats):
            prior = next((r[k] for r in own if r[k] is not None), b"")
            by_url = next((records.get(r[k], b"") for r in urls if f.url and r[k]), b"")
            by_fp = next((records.get(r[k], b"") for r in fps if r[k] is not None), b"")
            near, near_sim = b"", ""
            best = -1.0
            seen: set[bytes] = set()
            for b in range(self._bands):
                for replies in buckets:
                    cand = replies[k * self._bands + b]
                    if cand is None or cand in seen:
                        continue
                    seen.add(cand)
                    record = records.get(cand)
                    if record is None or not (sig := _signature(record)):
                        continue
                    j = jaccard(f.signature, sig, self._num_perm)
                    if j > best:
                        best, near, near_sim = j, record, repr(j)
            out.append([prior, by_url, by_fp, near, near_sim])
        return out

    def pin(self, output: OutputConnection) -> None:
        """Send each call over ``output`` (kept on the current slot's primary) and WAIT."""
        self._output = output

    async def close(self) -> None:
        if self._output is not None:
            await self._output.close()
