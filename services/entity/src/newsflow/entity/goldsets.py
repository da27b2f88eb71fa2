"""Readers of the annotated NER sets newsflow evaluates on and trains from.

Every reader gives :class:`Sentence` objects: the sentence's text and its gold entities as
character spans ``(start, end, type)`` in that text. Formats: Universal NER (``# text =``, then
``index  token  IOB2``), one ``token label`` per line (Swedish web news, GermEval), WikiANN
(``lang:token  IOB2``) and CoNLL-2003 (``token POS chunk IOB1``, ``-DOCSTART-`` lines).

:func:`held_out` is the one deterministic split of a gold file that is used both for training
and for scoring: its held-out blocks are never trained on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

Span = tuple[int, int, str]


@dataclass
class Sentence:
    text: str
    gold: set[Span]


def _spans_from_tags(tokens: list[str], tags: list[str], text: str) -> set[Span]:
    """Entity spans (character offsets in ``text``) from IOB2 tags or bare runs."""
    offsets = []
    pos = 0
    for token in tokens:
        start = text.find(token, pos)
        if start < 0:
            start = pos
        offsets.append((start, start + len(token)))
        pos = start + len(token)
    spans: set[Span] = set()
    current: list[int] | None = None
    label = ""
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-") if "-" in tag else ("", "", tag)
        if tag in {"O", "0", ""}:
            kind = ""
        begins = prefix == "B" or (kind and (current is None or kind != label))
        if current is not None and (not kind or begins):
            spans.add((offsets[current[0]][0], offsets[current[-1]][1], label))
            current = None
        if kind:
            if current is None:
                current, label = [i], kind
            else:
                current.append(i)
    if current is not None:
        spans.add((offsets[current[0]][0], offsets[current[-1]][1], label))
    return spans


def read_uner(path: Path) -> list[Sentence]:
    out: list[Sentence] = []
    text = ""
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("# text = "):
            text = line[len("# text = ") :]
        elif line.startswith("#"):
            continue
        elif not line.strip():
            if tokens:
                out.append(Sentence(text, _spans_from_tags(tokens, tags, text)))
            text, tokens, tags = "", [], []
        else:
            cols = line.split("\t")
            tokens.append(cols[1])
            tags.append(cols[2])
    return out


def read_token_label(path: Path, token_col: int, tag_col: int, sep: str | None) -> list[Sentence]:
    """One token per line, blank line between sentences; text = tokens joined by spaces."""
    out: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#") and not tokens:
            continue
        cols = line.split(sep) if line.strip() else []
        if not cols:
            if tokens:
                text = " ".join(tokens)
                out.append(Sentence(text, _spans_from_tags(tokens, tags, text)))
            tokens, tags = [], []
            continue
        if len(cols) <= max(token_col, tag_col):
            continue  # a malformed line (the Swedish file has one): skipped, not guessed
        tokens.append(cols[token_col])
        tags.append(cols[tag_col])
    return out


def read_wikiann(path: Path) -> list[Sentence]:
    """WikiANN (``de:Teil\tO``): the ``lang:`` prefix stripped, tokens joined by spaces."""
    out: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if tokens:
                text = " ".join(tokens)
                out.append(Sentence(text, _spans_from_tags(tokens, tags, text)))
            tokens, tags = [], []
            continue
        token, _, tag = line.rpartition("\t")
        _, _, token = token.partition(":")
        if token:
            tokens.append(token)
            tags.append(tag.strip() or "O")
    return out


def read_conll(path: Path) -> list[list[Sentence]]:
    """CoNLL-2003 (``token POS chunk IOB1``): documents, each a list of sentences."""
    docs: list[list[Sentence]] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            if not docs:
                docs.append([])
            text = " ".join(tokens)
            docs[-1].append(Sentence(text, _spans_from_tags(tokens, tags, text)))
        tokens.clear()
        tags.clear()

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        cols = line.split()
        if not cols:
            flush()
        elif cols[0] == "-DOCSTART-":
            flush()
            docs.append([])
        else:
            tokens.append(cols[0])
            tags.append(cols[-1])
    return [d for d in docs if d]


def join(sentences: list[Sentence], sep: str = "\n") -> Sentence:
    """One text of consecutive sentences (an article, as the service reads it), spans moved."""
    parts: list[str] = []
    gold: set[Span] = set()
    offset = 0
    for sentence in sentences:
        parts.append(sentence.text)
        gold |= {(a + offset, b + offset, t) for a, b, t in sentence.gold}
        offset += len(sentence.text) + len(sep)
    return Sentence(sep.join(parts), gold)


def held_out(index: int, *, block: int = 20, every: int = 10) -> bool:
    """Whether sentence ``index`` of a split gold file is held out: one block of ``block``
    consecutive sentences in every ``every`` (whole blocks, so an article's sentences mostly
    stay on one side)."""
    return (index // block) % every == 0


def split(sentences: list[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """(trained on, held out) by :func:`held_out`."""
    train = [s for i, s in enumerate(sentences) if not held_out(i)]
    dev = [s for i, s in enumerate(sentences) if held_out(i)]
    return train, dev


def germeval_tag(tag: str) -> str:
    """GermEval's outer tag in newsflow's types: ``OTH`` is MISC; ``*deriv`` ("deutsche") and
    ``*part`` ("EU-weit") are words derived from or containing a name, not names: no entity."""
    if tag.endswith(("deriv", "part")):
        return "O"
    return tag.replace("OTH", "MISC")


def read_germeval(path: Path) -> list[Sentence]:
    sents = read_token_label(path, 1, 2, "\t")
    for s in sents:
        s.gold = {(a, b, germeval_tag(t)) for a, b, t in s.gold if germeval_tag(t) != "O"}
    return sents


def score(
    gold: Iterable[set[Span]], predicted: Iterable[set[Span]], types: tuple[str, ...]
) -> dict[str, tuple[float, float, float, int]]:
    """Per type and micro: precision, recall, F1, gold count."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        g = {s for s in g if s[2] in types}  # a type not scored is neither hit nor missed
        p = {s for s in p if s[2] in types}
        for s in g & p:
            tp[s[2]] += 1
        for s in p - g:
            fp[s[2]] += 1
        for s in g - p:
            fn[s[2]] += 1
    out = {}
    for t in (*types, "micro"):
        a, b, c = (
            (sum(tp.values()), sum(fp.values()), sum(fn.values()))
            if t == "micro"
            else (tp[t], fp[t], fn[t])
        )
        precision = a / (a + b) if a + b else 0.0
        recall = a / (a + c) if a + c else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[t] = (precision, recall, f1, a + c)
    return out
