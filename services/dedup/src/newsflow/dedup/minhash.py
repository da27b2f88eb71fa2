"""MinHash signatures (rensa) and LSH bands. Pure; no Redis.

A signature has ``num_perm`` 32-bit minimums; newsflow stores their low 8 bits (b-bit MinHash,
Li & König 2010: two different minimums agree by accident with probability 1/256, which the
estimate corrects for) for verification, and hashes the first ``bands * rows`` of them, ``rows``
at a time, into 32-bit bucket ids for candidate search.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash
from numpy.typing import NDArray
from rensa import RMinHash

from newsflow.dedup.textnorm import tokens_of
from newsflow.shared.ids import canonical_url

_xxh3 = xxhash.xxh3_64_intdigest


@dataclass(frozen=True, slots=True)
class MinHashParams:
    num_perm: int = 128
    bands: int = 8
    rows: int = 4
    seed: int = 1729
    shingle_size: int = 3

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")


@dataclass(frozen=True, slots=True)
class Features:
    """What the shared index needs to know about one article."""

    ref: bytes  # 6-byte reference of the article id
    fingerprint: bytes  # 12-byte hash of the canonical body
    url: bytes  # 6-byte hash of the canonical URL, or b"" when there is none
    bands: bytes  # bands * 4 bytes of bucket ids
    signature: bytes  # num_perm bytes (low 8 bits of each minimum)

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


# Sizes are chosen for Redis memory: strings of up to 6 bytes fit the 8-byte allocation class
# (12 bytes: 16). 48-bit references collide with probability ~n²/2⁴⁹: ~0.4 % for 1.4 M articles
# in a window; 96-bit fingerprints, never in practice.
REF_BYTES = 6
FINGERPRINT_BYTES = 12


def article_ref(article_id: str) -> bytes:
    return hashlib.blake2b(article_id.encode(), digest_size=REF_BYTES).digest()


# Shingle hashes are combined from per-token xxh3 hashes with numpy (no shingle strings are
# built); rensa then signs a whole batch in one call. Odd 64-bit multipliers mix positions.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def shingle_hashes(toks: list[bytes], k: int = 3) -> NDArray[np.uint64]:
    """64-bit hashes of the k-token shingles (one hash of the whole text when shorter)."""
    h = np.array(list(map(_xxh3, toks)), dtype=np.uint64)  # faster than np.fromiter here
    if len(h) == 0:
        return h
    if len(h) < k:
        with np.errstate(over="ignore"):
            return np.array([int(np.sum(h * _MIX[0])) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    with np.errstate(over="ignore"):
        out = h[: len(h) - k + 1] * _MIX[0]
        for i in range(1, k):
            out = out + h[i : len(h) - k + 1 + i] * _MIX[i % len(_MIX)]
    return out


def signatures(hashes: list[NDArray[np.uint64]], params: MinHashParams) -> list[list[int]]:
    """MinHash signatures of many shingle-hash arrays in one rensa call."""
    if not hashes:
        return []
    offsets = np.zeros(len(hashes) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum([len(h) for h in hashes])
    flat = np.concatenate(hashes) if any(len(h) for h in hashes) else np.zeros(0, np.uint64)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(
        flat, offsets, params.num_perm, params.seed
    )
    return [list(row) for row in matrix.to_rows()]


def signature(toks: list[bytes], params: MinHashParams) -> list[int]:
    return signatures([shingle_hashes(toks, params.shingle_size)], params)[0]


def band_ids(sig: list[int], params: MinHashParams) -> bytes:
    out = bytearray()
    for b in range(params.bands):
        chunk = struct.pack(f"<{params.rows}I", *sig[b * params.rows : (b + 1) * params.rows])
        out += struct.pack("<I", xxhash.xxh32_intdigest(chunk, seed=b))
    return bytes(out)


B_BIT_COLLISION = 1 / 256


def pack_signature(sig: list[int]) -> bytes:
    return bytes(v & 0xFF for v in sig)


def estimate_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard estimate from two 8-bit signatures, corrected for accidental agreement."""
    equal = sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
    return max(0.0, (equal - B_BIT_COLLISION) / (1 - B_BIT_COLLISION))


def features_batch(
    items: Sequence[tuple[str, str, str | None]], params: MinHashParams
) -> list[Features]:
    """Features of (article id, text, url) items; the signatures are computed in one call."""
    token_lists = [tokens_of(text) for _, text, _ in items]
    sigs = signatures([shingle_hashes(t, params.shingle_size) for t in token_lists], params)
    out = []
    for (article_id, _, url), toks, sig in zip(items, token_lists, sigs, strict=True):
        canonical = b" ".join(toks)
        url_hash = xxhash.xxh64_digest(canonical_url(url).encode())[:REF_BYTES] if url else b""
        out.append(
            Features(
                ref=article_ref(article_id),
                fingerprint=hashlib.blake2b(canonical, digest_size=FINGERPRINT_BYTES).digest(),
                url=url_hash,
                bands=band_ids(sig, params),
                signature=pack_signature(sig),
            )
        )
    return out


def keyed_features(
    items: Sequence[tuple[str, str]], params: MinHashParams
) -> list[tuple[str, Features]]:
    """(article id, features) of (article id, text) items without URLs, as the index takes them."""
    feats = features_batch([(article_id, text, None) for article_id, text in items], params)
    return [(article_id, f) for (article_id, _), f in zip(items, feats, strict=True)]


def features(article_id: str, text: str, url: str | None, params: MinHashParams) -> Features:
    return features_batch([(article_id, text, url)], params)[0]
