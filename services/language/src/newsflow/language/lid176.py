"""lid.176 read by numpy, a batch of texts at a time, with the vectors of tokens seen before kept.

fastText's prediction for a line is fixed arithmetic on its model file: every token becomes the
rows of its subwords (the token itself if it is in the vocabulary, and its character n-grams of
``minn``..``maxn`` characters with ``<`` and ``>`` around it, hashed by FNV-1a into buckets,
kept only where the quantised model kept the bucket); the hidden vector is the mean of all those
rows plus the end-of-line token's; a hierarchical softmax over the labels' Huffman tree gives
each label's probability. This module reads the same ``.ftz`` file and does the same arithmetic,
in numpy, for many texts at once:

- a token's row sum and row count depend on the token alone, so they are computed once per
  distinct token of a batch (a batch of news repeats most of its words) and kept across
  batches, up to ``kept_tokens`` distinct tokens (then the store starts over);
- the n-gram hashes of all new tokens are computed together, a character position at a time;
- the batch is tokenised as one array, each token known by a 64-bit key of its bytes;
- the hidden vectors, the tree's node probabilities and every label's log-probability are
  matrix products over the whole batch.

It gives fasttext-predict's answers (tests compare the two on text in many scripts; the labels
and their order are the same, probabilities differ by under 1e-6: float32 sums in another
order), at less than its cost per token on a read batch of articles. On a handful of short
texts numpy's cost per call is more than fastText's, so :class:`LanguageIdentifier` hands small
batches to fasttext-predict.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from itertools import chain, repeat
from operator import is_
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_MAGIC = 793712314
_VERSION = 12
_LOSS_HS = 1  # fastText's loss_name::hs
EOS = b"</s>"
_LABEL = b"__label__"
_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
# Bytes of text read in one pass of the arrays (a read batch of news is ~0.6 MB).
MAX_PASS_BYTES = 1 << 22
# fastText's std_log: log(x + 1e-5).
_LOG_EPS = 1e-5
# Product quantiser: 2^8 centroids per sub-quantiser.
_KSUB = 256

Floats = npt.NDArray[np.float64]
Floats32 = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


class ModelFormatError(ValueError):
    """The file is not a model this reader handles (a quantised, hierarchical-softmax
    supervised fastText model with word n-grams of 1, such as lid.176.ftz)."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def array(self, dtype: str, count: int) -> npt.NDArray[Any]:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def cstring(self) -> bytes:
        end = self.data.index(b"\0", self.at)
        text = self.data[self.at : end]
        self.at = end + 1
        return text


def _decode(
    codes: npt.NDArray[np.uint8],
    centroids: npt.NDArray[np.float32],
    nsubq: int,
    dsub: int,
    lastdsub: int,
    dim: int,
) -> npt.NDArray[np.float32]:
    """Rows from product-quantiser codes (fastText's ProductQuantizer::get_centroids layout:
    sub-quantiser q's 256 centroids of ``dsub`` values each, the last one's of ``lastdsub``)."""
    out = np.empty((codes.shape[0], dim), dtype=np.float32)
    for q in range(nsubq):
        width = lastdsub if q == nsubq - 1 else dsub
        first = q * _KSUB * dsub
        table = centroids[first : first + _KSUB * width].reshape(_KSUB, width)
        out[:, q * dsub : q * dsub + width] = table[codes[:, q]]
    return out


def _quant_matrix(reader: _Reader) -> npt.NDArray[np.float32]:
    """fastText's QuantMatrix::load, decoded: codes, quantiser, then the norms' codes and
    quantiser when the rows were stored as direction and norm."""
    qnorm, rows, dim = reader.take("<?qq")
    (codesize,) = reader.take("<i")
    codes = reader.array("u1", codesize).reshape(rows, -1)
    pq_dim, nsubq, dsub, lastdsub = reader.take("<4i")
    matrix = _decode(codes, reader.array("<f4", pq_dim * _KSUB), nsubq, dsub, lastdsub, dim)
    if qnorm:
        norm_codes = reader.array("u1", rows)
        npq_dim, _, _, _ = reader.take("<4i")
        norms = reader.array("<f4", npq_dim * _KSUB)
        matrix *= norms[norm_codes][:, None]
    return matrix


def _dense_matrix(reader: _Reader) -> npt.NDArray[np.float32]:
    rows, dim = reader.take("<qq")
    return reader.array("<f4", rows * dim).reshape(rows, dim).astype(np.float32)


def _huffman_paths(counts: list[int]) -> tuple[Floats, Floats]:
    """fastText's HierarchicalSoftmaxLoss::buildTree over the label counts (most frequent
    first), as two (labels x inner nodes) 0/1 matrices: the nodes on each label's path where
    it goes right (probability f) and where it goes left (1 - f)."""
    labels = len(counts)
    size = 2 * labels - 1
    count: list[float] = [*map(float, counts), *[1e15] * (labels - 1)]
    parent = [-1] * size
    right_child = [False] * size
    leaf, node = labels - 1, labels
    for inner in range(labels, size):
        pair = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                pair.append(leaf)
                leaf -= 1
            else:
                pair.append(node)
                node += 1
        count[inner] = count[pair[0]] + count[pair[1]]
        parent[pair[0]] = parent[pair[1]] = inner
        right_child[pair[1]] = True
    goes_right = np.zeros((labels, labels - 1))
    goes_left = np.zeros((labels, labels - 1))
    for label in range(labels):
        child = label
        while parent[child] != -1:
            (goes_right if right_child[child] else goes_left)[label, parent[child] - labels] = 1
            child = parent[child]
    return goes_right, goes_left


@dataclass(frozen=True, slots=True)
class Lid176Model:
    """What the reader needs from a ``.ftz`` file."""

    minn: int
    maxn: int
    bucket: int
    words: dict[bytes, int]  # vocabulary word -> its row
    labels: list[str]  # "__label__en", ... in the model's order
    # Input rows, decoded (words, then the kept n-gram buckets), by dimension: float32 as in
    # fastText, and one dimension's values contiguous for gathering.
    rows_by_dim: npt.NDArray[np.float32]
    bucket_rows: npt.NDArray[np.int32]  # n-gram bucket -> its row, -1 where pruned
    output: Floats  # one row per inner node of the label tree
    goes_right: Floats
    goes_left: Floats

    @classmethod
    def load(cls, path: Path) -> Lid176Model:
        reader = _Reader(path.read_bytes())
        magic, version = reader.take("<ii")
        if magic != _MAGIC or version != _VERSION:
            raise ModelFormatError(f"{path}: not a fastText model file of version {_VERSION}")
        (_dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, _model, bucket, minn, maxn) = (
            reader.take("<11i")
        )
        reader.take("<id")  # lrUpdateRate, t
        if loss != _LOSS_HS or word_ngrams != 1:
            raise ModelFormatError(
                f"{path}: loss {loss}, word n-grams {word_ngrams}; this reader handles "
                "hierarchical softmax with single words (lid.176)"
            )
        size, nwords, _nlabels = reader.take("<3i")
        _ntokens, pruned = reader.take("<2q")
        words: dict[bytes, int] = {}
        labels: list[str] = []
        counts: list[int] = []
        for index in range(size):
            word = reader.cstring()
            count, kind = reader.take("<qb")
            if kind == 0:
                words[word] = index
            else:
                labels.append(word.decode("utf-8"))
                counts.append(count)
        pairs = reader.array("<i4", 2 * pruned).reshape(-1, 2)
        (quant_input,) = reader.take("<?")
        if not quant_input or pruned <= 0:
            raise ModelFormatError(f"{path}: not a quantised (.ftz) model")
        rows = _quant_matrix(reader)
        (quant_output,) = reader.take("<?")
        output = _quant_matrix(reader) if quant_output else _dense_matrix(reader)
        if reader.at != len(reader.data):
            raise ModelFormatError(f"{path}: {len(reader.data) - reader.at} bytes left over")
        bucket_rows = np.full(bucket, -1, dtype=np.int32)
        bucket_rows[pairs[:, 0]] = pairs[:, 1] + nwords
        goes_right, goes_left = _huffman_paths(counts)
        return cls(
            minn=minn,
            maxn=maxn,
            bucket=bucket,
            words=words,
            labels=labels,
            rows_by_dim=np.ascontiguousarray(rows.T),
            bucket_rows=bucket_rows,
            output=output[: len(labels) - 1].astype(np.float64),
            goes_right=goes_right,
            goes_left=goes_left,
        )


class Lid176:
    """Predictions of lid.176 for many texts at once. Not thread-safe (one per worker)."""

    def __init__(self, model: Lid176Model, kept_tokens: int = 1 << 17) -> None:
        self.model = model
        self.capacity = kept_tokens
        self._eos = model.rows_by_dim[:, model.words[EOS]].astype(np.float64)
        self._keys = _TokenKeys()
        # Vocabulary words by key, for tokens read as bytes of the batch.
        words = list(model.words)
        word_keys = self._keys.of(np.frombuffer(b" ".join(words), np.uint8), *_spans(words))
        self._word_rows = dict(zip(word_keys.tolist(), model.words.values(), strict=True))
        self._slots: dict[int, int] = {}  # token key -> its slot in the store
        dim = model.rows_by_dim.shape[0]
        # Row sum and row count of each kept token, at its slot.
        # (float32 by dimension, as fastText adds rows: gathering from a store of this size is
        # bound by memory, and half the bytes in rows that stay in the CPU cache is ~4x faster)
        self._sums = np.zeros((dim, kept_tokens), dtype=np.float32)
        self._counts = np.zeros(kept_tokens)

    @classmethod
    def load(cls, path: Path, kept_tokens: int = 1 << 17) -> Lid176:
        return cls(Lid176Model.load(path), kept_tokens)

    @property
    def kept(self) -> int:
        """Distinct tokens whose vectors are kept now."""
        return len(self._slots)

    def forget(self) -> None:
        """Drop the kept token vectors."""
        self._slots = {}

    def predict_many(
        self, texts: list[str], k: int = 1, threshold: float = 0.0
    ) -> list[list[tuple[float, str]]]:
        """For each text, like fasttext-predict's ``predict(text + "\\n", k, threshold)``:
        up to ``k`` (probability, label) pairs of probability at least ``threshold``, most
        probable first. Texts are read in groups of up to MAX_PASS_BYTES (a text larger than
        that alone), so the working arrays stay bounded whatever the batch."""
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        out: list[list[tuple[float, str]]] = []
        group: list[bytes] = []
        size = 0
        for data in encoded:
            if group and size + len(data) > MAX_PASS_BYTES:
                out.extend(self._predict_encoded(group, k, threshold))
                group, size = [], 0
            group.append(data)
            size += len(data) + 1
        if group:
            out.extend(self._predict_encoded(group, k, threshold))
        return out

    def _predict_encoded(
        self, encoded: list[bytes], k: int, threshold: float
    ) -> list[list[tuple[float, str]]]:
        data = b" ".join(encoded)
        if b"\0" in data:
            data = data.replace(b"\0", b" ")
        if EOS in data or _LABEL in data:  # tokens fastText treats specially: one by one
            sums, counts, slots, per_text = self._odd_token_vectors(encoded)
        else:
            lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
            sums, counts, slots, per_text = self._token_vectors(data, lengths)
        starts = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(per_text, out=starts[1:])
        hidden = np.tile(self._eos, (len(encoded), 1))
        n_rows = np.ones(len(encoded))
        filled = starts[1:] > starts[:-1]
        if filled.any():
            by_text = np.add.reduceat(np.take(sums, slots, axis=1), starts[:-1][filled], axis=1)
            hidden[filled] += by_text.T
            n_rows[filled] += np.add.reduceat(counts[slots], starts[:-1][filled])
        hidden /= n_rows[:, None]
        node = 1.0 / (1.0 + np.exp(-(hidden @ self.model.output.T)))
        log_p = (
            np.log(node + _LOG_EPS) @ self.model.goes_right.T
            + np.log(1.0 - node + _LOG_EPS) @ self.model.goes_left.T
        )
        return self._top(log_p, k, threshold)

    def _top(self, log_p: Floats, k: int, threshold: float) -> list[list[tuple[float, str]]]:
        k = min(k, log_p.shape[1])
        if k < log_p.shape[1]:
            best = np.argpartition(-log_p, k - 1, axis=1)[:, :k]
        else:
            best = np.broadcast_to(np.arange(k), log_p.shape).copy()
        best_log = np.take_along_axis(log_p, best, 1)
        order = np.argsort(-best_log, axis=1, kind="stable")
        best = np.take_along_axis(best, order, 1)
        best_log = np.take_along_axis(best_log, order, 1)
        floor = math.log(threshold + _LOG_EPS)
        labels = self.model.labels
        return [
            [(math.exp(lp), labels[i]) for i, lp in zip(ids, lps, strict=True) if lp >= floor]
            for ids, lps in zip(best.tolist(), best_log.tolist(), strict=True)
        ]

    def _token_vectors(self, data: bytes, lengths: Ints) -> tuple[Floats32, Floats, Ints, Ints]:
        """(row sums by dimension, row counts, for every token of every text in order its index
        into them, and the number of tokens per text), computing the tokens not kept yet.

        The batch is tokenised as one array (no Python object per token: a dict lookup per
        token cost ~0.2 us, out of the CPU caches); each token is known by a 64-bit key of its
        bytes (:class:`_TokenKeys`), the batch's keys made distinct by sorting, and only the
        distinct ones looked up in the store."""
        text = np.frombuffer(data, dtype=np.uint8)
        starts, ends = _token_bounds(text)
        # The texts (of ``lengths`` bytes) were joined one space apart: a text's tokens start
        # within its own bytes.
        text_starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        per_text = np.diff(np.append(np.searchsorted(starts, text_starts), len(starts)))
        keys = self._keys.of(text, starts, ends)
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        kept = self._slots
        found = list(map(kept.get, distinct.tolist()))
        if None in found:
            new = np.fromiter(map(is_, found, repeat(None)), bool, len(found))
            new_keys = distinct[new].tolist()
            if len(kept) + len(new_keys) > self.capacity:
                kept = self._slots = {}  # the store is full: start over
                new[:] = True
                new_keys = distinct.tolist()
            occurrence = first[new]
            wrapped = _gather_wrapped(text, starts[occurrence], ends[occurrence], self.model)
            vocab = np.fromiter(
                map(self._word_rows.get, new_keys, repeat(-1)), np.int64, len(new_keys)
            )
            sums, counts = _subword_sums(self.model, wrapped, vocab)
            if len(new_keys) > self.capacity:  # the batch alone is more than the store holds
                return sums, counts, inverse.ravel(), per_text
            slot = len(kept)
            self._sums[:, slot : slot + len(new_keys)] = sums
            self._counts[slot : slot + len(new_keys)] = counts
            kept.update(zip(new_keys, range(slot, slot + len(new_keys)), strict=True))
            found = list(map(kept.__getitem__, distinct.tolist()))
        slots = np.array(found, dtype=np.int64)[inverse.ravel()]
        return self._sums, self._counts, slots, per_text

    def _odd_token_vectors(self, texts: list[bytes]) -> tuple[Floats32, Floats, Ints, Ints]:
        """:meth:`_token_vectors` for a batch with a literal end-of-line or label token, read
        token by token as bytes (and not kept)."""
        token_lists = [_tokens(text) for text in texts]
        flat = list(chain.from_iterable(token_lists))
        distinct = list(dict.fromkeys(flat))
        index = dict(zip(distinct, range(len(distinct)), strict=True))
        vocab = np.fromiter(
            map(self.model.words.get, distinct, repeat(-1)), np.int64, len(distinct)
        )
        sums, counts = _subword_sums(self.model, _wrapped(distinct, self.model.maxn - 1), vocab)
        slots = np.fromiter(map(index.__getitem__, flat), np.int64, len(flat))
        return sums, counts, slots, np.fromiter(map(len, token_lists), np.int64, len(texts))


# ASCII white space as bytes.split() and fastText's reader see it (NUL is replaced first).
_WHITE = np.zeros(256, dtype=bool)
_WHITE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20]] = True


def _token_bounds(text: npt.NDArray[np.uint8]) -> tuple[Ints, Ints]:
    """Start and end offsets of the runs of non-white bytes."""
    word = np.concatenate(([0], (~_WHITE[text]).view(np.int8), [0]))
    edges = np.diff(word)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _spans(tokens: list[bytes]) -> tuple[Ints, Ints]:
    """Start and end offsets of ``tokens`` joined one space apart."""
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return starts, starts + lengths


def _gather_wrapped(
    text: npt.NDArray[np.uint8], starts: Ints, ends: Ints, model: Lid176Model
) -> npt.NDArray[np.uint8]:
    """:func:`_wrapped` of the tokens at [starts, ends) of ``text``, by index arithmetic."""
    lengths = ends - starts
    slot = lengths + 3  # "<", the token, ">", and a space
    out_starts = np.concatenate(([0], np.cumsum(slot)[:-1]))
    out = np.full(int(slot.sum()) - 1 + model.maxn - 1, 0x20, dtype=np.uint8)
    out[out_starts] = ord("<")
    out[out_starts + lengths + 1] = ord(">")
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[np.repeat(out_starts + 1, lengths) + within] = text[np.repeat(starts, lengths) + within]
    return out


class _TokenKeys:
    """A 64-bit key per token: sum of (byte + 1) * P^i over its bytes (arithmetic mod 2^64),
    mixed with its length, computed for every token of a batch at once from prefix sums.
    Distinct tokens of natural text collide with probability ~n^2 / 2^64 (n = tokens kept:
    ~1e-9 for the default store); a collision would give one token the other's vector."""

    _P = np.uint64(0x100000001B3)  # odd, so invertible mod 2^64
    _MIX = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self) -> None:
        self._powers = np.ones(1, dtype=np.uint64)
        self._inverse = np.ones(1, dtype=np.uint64)
        self._p_inv = np.uint64(pow(int(self._P), -1, 1 << 64))

    def _grow(self, size: int) -> None:
        if len(self._powers) >= size:
            return
        size = max(size, 2 * len(self._powers))
        with np.errstate(over="ignore"):
            self._powers = np.ones(size, dtype=np.uint64)
            self._powers[1:] = np.cumprod(np.full(size - 1, self._P, dtype=np.uint64))
            self._inverse = np.ones(size, dtype=np.uint64)
            self._inverse[1:] = np.cumprod(np.full(size - 1, self._p_inv, dtype=np.uint64))

    def of(self, text: npt.NDArray[np.uint8], starts: Ints, ends: Ints) -> npt.NDArray[np.uint64]:
        self._grow(len(text) + 1)
        with np.errstate(over="ignore"):
            weighted = (text.astype(np.uint64) + np.uint64(1)) * self._powers[: len(text)]
            prefix = np.concatenate(([np.uint64(0)], np.cumsum(weighted, dtype=np.uint64)))
            keys = (prefix[ends] - prefix[starts]) * self._inverse[starts]
            return keys ^ ((ends - starts).astype(np.uint64) * self._MIX)


def _tokens(data: bytes) -> list[bytes]:
    """fastText's words of a line (UTF-8): split on ASCII white space and NUL; label-like
    tokens are not words; a literal end-of-line token ends the line (fastText stops reading
    there)."""
    if b"\0" in data:
        data = data.replace(b"\0", b" ")
    tokens = data.split()
    if EOS in data and EOS in tokens:
        tokens = tokens[: tokens.index(EOS)]
    if _LABEL in data:
        tokens = [t for t in tokens if not t.startswith(_LABEL)]
    return tokens


def _wrapped(tokens: list[bytes], pad: int) -> npt.NDArray[np.uint8]:
    """The tokens as fastText wraps them, one space apart: "<tok1> <tok2> ...", and ``pad``
    spaces after the last."""
    return np.frombuffer(b"<" + b"> <".join(tokens) + b">" + b" " * pad, dtype=np.uint8)


def _subword_sums(
    model: Lid176Model, text: npt.NDArray[np.uint8], vocab: Ints
) -> tuple[Floats32, Floats]:
    """Each token's sum of input rows and number of rows (its vocabulary row ``vocab``, -1 for
    none, and the kept buckets of its character n-grams), all tokens at once, from the tokens
    wrapped as :func:`_wrapped` does with ``maxn - 1`` spaces after the last (so that every
    character has as many following ones as an n-gram needs): a pass over the characters per
    n-gram length, on array slices (measured ~5x faster than gathering by index)."""
    dim = model.rows_by_dim.shape[0]
    if not len(vocab):
        return np.zeros((dim, 0), dtype=np.float32), np.zeros(0)
    pad = model.maxn - 1
    starts = np.flatnonzero((text & 0xC0) != 0x80)  # first byte of each character
    n_chars = len(starts) - pad  # characters an n-gram may start at
    # Bytes as fastText's hash adds them: uint32(int8(byte)), so bytes >= 0x80 sign-extend.
    signed = text.astype(np.uint32)
    signed[text >= 0x80] |= np.uint32(0xFFFFFF00)
    first_byte = signed[starts]
    lengths = np.diff(np.append(starts, len(text)))
    # Continuation bytes of each character (0 where it has fewer), for multi-byte text.
    continued = [
        (lengths > extra, signed[np.minimum(starts + extra, len(text) - 1)])
        for extra in range(1, int(lengths.max()))
    ]
    space = text[starts] == 0x20
    spaces_through = np.cumsum(space)  # spaces among the characters up to each one
    prime = np.uint32(_FNV_PRIME)
    hashes = np.full(n_chars, _FNV_OFFSET, dtype=np.uint32)
    by_length_hash, by_length_valid = [], []
    for n in range(1, model.maxn + 1):
        last = slice(n - 1, n - 1 + n_chars)  # the n-gram's last character, for each start
        hashes = (hashes ^ first_byte[last]) * prime
        for has_byte, byte in continued:
            hashes = np.where(has_byte[last], (hashes ^ byte[last]) * prime, hashes)
        if n >= model.minn:
            # Within one token: no space from its first character to its last.
            by_length_hash.append(hashes)
            by_length_valid.append(
                ~space[:n_chars] & (spaces_through[last] == spaces_through[:n_chars])
            )
    # Character by character, each length in turn: the n-grams come out grouped by token.
    all_hashes = np.stack(by_length_hash, axis=1)
    valid = np.stack(by_length_valid, axis=1)
    # (every n-gram looked up, then the valid ones kept: faster than masking before)
    rows = np.where(valid, model.bucket_rows[all_hashes % np.uint32(model.bucket)], -1)
    kept = rows >= 0
    # Each token's characters: from its "<" (a character after a space, or the first).
    token_first = np.flatnonzero(np.append(True, space[: n_chars - 1]))
    per_token = np.add.reduceat(kept.ravel(), token_first * len(by_length_hash), dtype=np.int64)
    counts = per_token.astype(np.float64)
    sums = np.zeros((dim, len(vocab)), dtype=np.float32)
    has = counts > 0
    if has.any():
        first_row = np.cumsum(counts, dtype=np.int64) - counts.astype(np.int64)
        gathered = np.take(model.rows_by_dim, rows[kept], axis=1)  # (dim, rows), float32
        sums[:, has] = np.add.reduceat(gathered, first_row[has], axis=1)
    in_vocab = vocab >= 0
    sums[:, in_vocab] += model.rows_by_dim[:, vocab[in_vocab]]
    counts[in_vocab] += 1
    return sums, counts
