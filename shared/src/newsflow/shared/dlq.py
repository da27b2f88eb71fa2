"""The dead-letter stream: list, inspect and replay dead letters.

With partitions every partition has its own dead-letter stream; each function takes the list
of them (``Settings.dlq_streams()``) and a letter remembers which one it is in.

Replay writes a letter's original payload back to the stream it came from and deletes the letter
in the same MULTI/EXEC transaction: a letter leaves the DLQ only once it is re-published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from newsflow.shared.events import DeadLetter
from newsflow.shared.wire import EVENT_FIELD, decode_fields


@dataclass(frozen=True, slots=True)
class StoredLetter:
    entry_id: str
    letter: DeadLetter | None  # None when the DLQ entry itself is unreadable
    raw: dict[str, str]
    dlq: str = ""  # the dead-letter stream it is in


def _parse(entry_id: Any, raw: Any, dlq: str) -> StoredLetter:
    eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    fields = decode_fields(raw)
    try:
        letter = DeadLetter.model_validate_json(fields.get(EVENT_FIELD, ""))
    except ValidationError:
        letter = None
    return StoredLetter(eid, letter, fields, dlq)


async def list_letters(
    redis: Redis,
    dlqs: str | Sequence[str],
    *,
    stage: str | None = None,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[StoredLetter]:
    """The letters of one or several dead-letter streams, oldest first within each."""
    found: list[StoredLetter] = []
    for dlq in [dlqs] if isinstance(dlqs, str) else dlqs:
        if ids:
            for entry_id in ids:
                rows: Any = await redis.xrange(dlq, min=entry_id, max=entry_id)
                found.extend(_parse(eid, raw, dlq) for eid, raw in rows)
        else:
            everything: Any = await redis.xrange(dlq)
            found.extend(_parse(eid, raw, dlq) for eid, raw in everything)
    if stage:
        found = [s for s in found if s.letter is not None and s.letter.stage == stage]
    return found[:limit] if limit else found


@dataclass(slots=True)
class ReplayReport:
    replayed: list[tuple[str, str, str]]  # (dlq entry id, stream, new entry id)
    skipped: list[tuple[str, str]]  # (dlq entry id, why)


async def replay(redis: Redis, letters: Sequence[StoredLetter]) -> ReplayReport:
    """Each letter back on its original stream, deleted from the DLQ it is in (the same
    partition, so the same hash tag: one slot for the transaction in a cluster)."""
    report = ReplayReport(replayed=[], skipped=[])
    for stored in letters:
        letter = stored.letter
        if letter is None:
            report.skipped.append((stored.entry_id, "unreadable dead letter"))
            continue
        payload = {k: v for k, v in letter.payload.items() if k != "error"}
        if not payload:
            report.skipped.append((stored.entry_id, "no original payload to replay"))
            continue
        pipe = redis.pipeline(transaction=True)
        pipe.xadd(letter.original_stream, payload)  # type: ignore[arg-type]
        pipe.xdel(stored.dlq, stored.entry_id)
        new_id, _deleted = await pipe.execute()
        new = new_id.decode() if isinstance(new_id, bytes) else str(new_id)
        report.replayed.append((stored.entry_id, letter.original_stream, new))
    return report
