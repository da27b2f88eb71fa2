"""Pure dedup logic: content fingerprints and the decision. No Redis, no FastStream."""

from __future__ import annotations

import hashlib

from newsflow.shared.events import DedupSection
from newsflow.shared.ids import normalise_for_hash


def fingerprint(text: str) -> str:
    """Hash of the normalised text (NFKC, case-folded, whitespace collapsed), 128 bits hex."""
    data = normalise_for_hash(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decide(article_id: str, fp: str, owner: str | None) -> DedupSection:
    """Classify an article given who first claimed its fingerprint.

    ``owner`` is the id that held the fingerprint before this article tried to claim it (None if
    this article was first). An article is never a duplicate of itself, so a redelivery of the
    first article stays unique.
    """
    if owner is None or owner == article_id:
        return DedupSection(status="unique", duplicate_of=None, similarity=1.0, fingerprint=fp)
    return DedupSection(
        status="exact_duplicate", duplicate_of=owner, similarity=1.0, fingerprint=fp
    )
