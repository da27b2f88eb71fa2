"""Acknowledgement-gated outputs: an input entry's outputs are written only by the consumer
whose XACK acknowledged it, so each entry's outputs are written once.

An entry can be processed twice at the same time: the reclaimer takes over entries idle longer
than ``reclaim_idle_ms`` whoever holds them, and a slow consumer (a stalled process, a node
failover that delayed its batch) may still be working on them. With a plain MULTI/EXEC both
would write their outputs and the second XACK would be a no-op: one article, two events.
Here one Lua script (atomic, in the partition's one slot: the input stream, the output streams
and the DLQ share its hash tag) acknowledges each entry and writes its outputs only when XACK
reports it was still pending; the outputs of an entry someone else already acknowledged are
dropped, and the caller is told which. A replayed DLQ letter is a new entry, so it is never
taken for one already done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GATE_SCRIPT = """
local group = ARGV[1]
local maxlen = ARGV[2]
local n = tonumber(ARGV[3])
local pos = 4
local skipped = {}
for e = 1, n do
  local id, nout = ARGV[pos], tonumber(ARGV[pos + 1])
  pos = pos + 2
  local first = redis.call('XACK', KEYS[1], group, id) == 1
  if not first then table.insert(skipped, id) end
  for o = 1, nout do
    local k, nf, capped = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1]), ARGV[pos + 2]
    pos = pos + 3
    if first then
      local args = {KEYS[k]}
      if capped == '1' and maxlen ~= '0' then
        args[2], args[3], args[4] = 'MAXLEN', '~', maxlen
      end
      args[#args + 1] = '*'
      for f = 0, nf * 2 - 1 do args[#args + 1] = ARGV[pos + f] end
      redis.call('XADD', unpack(args))
    end
    pos = pos + nf * 2
  end
end
return skipped
"""


@dataclass(frozen=True, slots=True)
class Output:
    stream: str
    fields: Mapping[str, str | bytes]
    capped: bool = True  # trimmed to the stream's maxlen (outputs yes, dead letters no)


def gate_call(
    input_stream: str,
    group: str,
    maxlen: int | None,
    outputs: Sequence[tuple[str, Sequence[Output]]],
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of :data:`GATE_SCRIPT` for (entry id, its outputs) pairs, in order."""
    keys = [input_stream]
    index: dict[str, int] = {}
    args: list[Any] = [group, str(maxlen or 0), str(len(outputs))]
    for entry_id, entry_outputs in outputs:
        args += [entry_id, str(len(entry_outputs))]
        for out in entry_outputs:
            k = index.get(out.stream)
            if k is None:
                keys.append(out.stream)
                k = index[out.stream] = len(keys)
            args += [str(k), str(len(out.fields)), "1" if out.capped else "0"]
            for field, value in out.fields.items():
                args += [field, value]
    return keys, args
