"""Pure dedup decisions: from the index's answer to the event's dedup section."""

from __future__ import annotations

from newsflow.dedup.index import Decision
from newsflow.shared.events import DedupSection


def section(decision: Decision, fingerprint: str) -> DedupSection:
    """The dedup section of an article. A unique article is the root of its own cluster."""
    duplicate = decision.status != "unique"
    return DedupSection(
        status=decision.status,  # type: ignore[arg-type]
        duplicate_of=decision.cluster_id if duplicate else None,
        similarity=round(min(1.0, decision.similarity), 4),
        fingerprint=fingerprint,
        cluster_id=decision.cluster_id,
        method=decision.method or None,  # type: ignore[arg-type]
    )
