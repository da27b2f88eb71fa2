"""MinHash signatures (rensa) and LSH bands. Pure; no Redis.

A signature has ``num_perm`` 32-bit minimums; newsflow stores their low 16 bits (b-bit
MinHash: accidental equality 1/65536, negligible) for verification, and hashes the first
``bands * rows`` of them, ``rows`` at a time, into 32-bit bucket ids for candidate search.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import xxhash
from rensa import RMinHash

from newsflow.dedup.textnorm import shingles, tokens_of
from newsflow.shared.ids import canonical_url


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

    ref: bytes  # 8-byte reference of the article id
    fingerprint: bytes  # 16-byte hash of the canonical body
    url: bytes  # 8-byte hash of the canonical URL, or b"" when there is none
    bands: bytes  # bands * 4 bytes of bucket ids
    signature: bytes  # num_perm * 2 bytes (low 16 bits of each minimum)

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


def article_ref(article_id: str) -> bytes:
    return hashlib.blake2b(article_id.encode(), digest_size=8).digest()


def signature(shingle_list: list[str], params: MinHashParams) -> list[int]:
    mh = RMinHash(num_perm=params.num_perm, seed=params.seed)
    mh.update(shingle_list)
    return [int(v) for v in mh.digest()]


def band_ids(sig: list[int], params: MinHashParams) -> bytes:
    out = bytearray()
    for b in range(params.bands):
        chunk = struct.pack(f"<{params.rows}I", *sig[b * params.rows : (b + 1) * params.rows])
        out += struct.pack("<I", xxhash.xxh32_intdigest(chunk, seed=b))
    return bytes(out)


def pack_signature(sig: list[int]) -> bytes:
    return struct.pack(f"<{len(sig)}H", *(v & 0xFFFF for v in sig))


def estimate_jaccard(a: bytes, b: bytes) -> float:
    """Share of equal 16-bit minimums of two packed signatures."""
    n = len(a) // 2
    va = struct.unpack(f"<{n}H", a)
    vb = struct.unpack(f"<{n}H", b)
    return sum(1 for x, y in zip(va, vb, strict=True) if x == y) / n


def features(article_id: str, text: str, url: str | None, params: MinHashParams) -> Features:
    toks = tokens_of(text)
    canonical = " ".join(toks)
    sh = shingles(toks, params.shingle_size)
    sig = signature(sh, params)
    url_hash = xxhash.xxh64_digest(canonical_url(url).encode()) if url else b""
    return Features(
        ref=article_ref(article_id),
        fingerprint=hashlib.blake2b(canonical.encode(), digest_size=16).digest(),
        url=url_hash,
        bands=band_ids(sig, params),
        signature=pack_signature(sig),
    )
