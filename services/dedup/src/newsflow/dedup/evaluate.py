"""Near-duplicate evaluation on real news: ``make eval-dedup DATA=../shared/eval``.

Synthesises variants of real articles with recorded edit recipes and strengths, runs originals
and variants through the real Redis index (a private redis-server) in stage-sized batches, and
reports precision and recall by recipe and overall, the true-Jaccard and estimated-similarity
distributions, and false positives among different articles of the same category.

True Jaccard is the exact Jaccard of the two texts' shingle sets after newsflow's
canonicalisation (boilerplate out, mojibake repaired, NFKC, case-folded): what a perfect
estimator would see. ``raw J`` is the same without boilerplate removal and repair.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from newsflow.dedup.minhash import MinHashParams, keyed_features
from newsflow.dedup.scratch import scratch_index
from newsflow.dedup.textnorm import jaccard, shingles, tokens, tokens_of

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_HEADERS = [
    "اخبار روز | خبرگزاری",
    "Главные новости дня",
    "今日新闻 | 头条",
    "Ειδήσεις σήμερα",
]
_FOOTERS = [
    "Follow us on social media for more news. All rights reserved.",
    "Source link",
    "Leave a Reply",
    "Subscribe to our newsletter for daily updates.",
]
_FILLER = (
    "Haus Jahr Zeit Stadt Land Weg Arbeit Geld Frage Bericht Woche Ende Teil Fall Seite Mensch "
    "Regierung Gruppe Leben Recht Kind Welt Problem Grund Hand Ort Zahl Markt Stunde Zukunft"
).split()


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s]


def headline_rewrite(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    return text, "Neu: " + " ".join(rng.sample(text.split(), k=min(6, len(text.split()))))


def trimmed_lead(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    sents = _sentences(text)
    k = max(1, round(len(sents) * s))
    return " ".join(sents[k:]) or text, ""


def appended_footer(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    return text + "\n" + "\n".join(rng.sample(_FOOTERS, k=max(1, round(4 * s)))), ""


def boilerplate_header(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    return rng.choice(_HEADERS) + "\n" + text, ""


def sentence_reorder(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    sents = _sentences(text)
    for _ in range(max(1, round(len(sents) * s))):
        i, j = rng.randrange(len(sents)), rng.randrange(len(sents))
        sents[i], sents[j] = sents[j], sents[i]
    return " ".join(sents), ""


def sentence_deletion(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    sents = _sentences(text)
    drop = set(rng.sample(range(len(sents)), k=min(len(sents) - 1, max(1, round(len(sents) * s)))))
    return " ".join(x for i, x in enumerate(sents) if i not in drop), ""


def word_swaps(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    words = text.split()
    for i in rng.sample(range(len(words)), k=max(1, round(len(words) * s))):
        words[i] = rng.choice(_FILLER)
    return " ".join(words), ""


def truncation(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    return text[: max(1, round(len(text) * (1 - s)))], ""


def mojibake(text: str, rng: random.Random, s: float) -> tuple[str, str]:
    return text.encode("utf-8").decode("cp1252", errors="replace"), ""


Recipe = Callable[[str, random.Random, float], tuple[str, str]]
RECIPES: dict[str, tuple[Recipe, tuple[float, float]]] = {
    "headline_rewrite": (headline_rewrite, (1.0, 1.0)),
    "trimmed_lead": (trimmed_lead, (0.03, 0.12)),
    "appended_footer": (appended_footer, (0.25, 1.0)),
    "boilerplate_header": (boilerplate_header, (1.0, 1.0)),
    "sentence_reorder": (sentence_reorder, (0.05, 0.2)),
    "sentence_deletion": (sentence_deletion, (0.03, 0.15)),
    "word_swaps_1-5%": (word_swaps, (0.01, 0.05)),
    "truncation": (truncation, (0.03, 0.15)),
    "mojibake": (mojibake, (1.0, 1.0)),
}


@dataclass(slots=True)
class Variant:
    id: str
    original: str
    recipe: str
    strength: float
    text: str
    true_j: float
    raw_j: float


def _raw_shingles(text: str) -> list[bytes]:
    return shingles(tokens(unicodedata.normalize("NFKC", text).casefold()))


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    qs = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return f"min {min(values):.2f}  p5 {qs[0]:.2f}  p50 {qs[9]:.2f}  p95 {qs[18]:.2f}"


def canonical_shingles(rows: list[dict[str, str]]) -> dict[str, list[bytes]]:
    """Each article's shingles after newsflow's canonicalisation (what true Jaccard compares)."""
    return {r["id"]: shingles(tokens_of(r["text"])) for r in rows}


def make_variants(
    rows: list[dict[str, str]], seed: int, canon: Mapping[str, list[bytes]] | None = None
) -> list[Variant]:
    """One variant per edit recipe of every article long enough to edit, shuffled, each with
    its true and raw Jaccard to its original (``canon``: the rows' canonical shingles, if the
    caller has them)."""
    rng = random.Random(seed)
    canon = canon if canon is not None else canonical_shingles(rows)
    raw = {r["id"]: _raw_shingles(r["text"]) for r in rows}
    # Variants are made of articles long enough to edit: with fewer than 4 sentences, trimming
    # or deleting leaves a stub (often one agency boilerplate sentence shared by many articles,
    # which then really is an exact duplicate of other stubs). All articles stay in the index.
    editable = [r for r in rows if len(_sentences(r["text"])) >= 4 and len(r["text"]) >= 500]
    variants: list[Variant] = []
    for r in editable:
        for name, (recipe, (low, high)) in RECIPES.items():
            strength = round(rng.uniform(low, high), 3)
            text, _title = recipe(r["text"], rng, strength)
            variants.append(
                Variant(
                    id=f"{r['id']}~{name}",
                    original=r["id"],
                    recipe=name,
                    strength=strength,
                    text=text,
                    true_j=jaccard(canon[r["id"]], shingles(tokens_of(text))),
                    raw_j=jaccard(raw[r["id"]], _raw_shingles(text)),
                )
            )
    rng.shuffle(variants)
    return variants


class Verdict(Protocol):
    """What a dedup decision says of an article: a DedupDecision or an event's DedupSection."""

    @property
    def status(self) -> str: ...

    @property
    def cluster_id(self) -> str | None: ...


def outcome(variant: Variant, verdict: Verdict) -> str:
    """``tp`` (found as its own story), ``fn`` (read as unique) or ``wrong`` (another story's)."""
    if verdict.status == "unique":
        return "fn"
    # The cluster root may be the original or an earlier variant of it: the same story.
    root_original = (verdict.cluster_id or "").split("~", 1)[0]
    return "tp" if root_original == variant.original else "wrong"


@dataclass(frozen=True, slots=True)
class Overall:
    precision: float  # originals flagged count as false positives
    recall_hi: float  # on variants with true J >= 0.8
    found_hi: int
    hi: int
    originals_flagged: list[str]


def overall(
    rows: list[dict[str, str]], variants: list[Variant], verdicts: Mapping[str, Verdict]
) -> Overall:
    outcomes = [(v, outcome(v, verdicts[v.id])) for v in variants]
    flagged = [r["id"] for r in rows if verdicts[r["id"]].status != "unique"]
    tp = sum(1 for _, o in outcomes if o == "tp")
    fp = sum(1 for _, o in outcomes if o == "wrong") + len(flagged)
    hi = [v for v in variants if v.true_j >= 0.8]
    found_hi = sum(1 for v, o in outcomes if o == "tp" and v.true_j >= 0.8)
    return Overall(
        tp / (tp + fp) if tp + fp else 1.0,
        found_hi / len(hi) if hi else 0.0,
        found_hi,
        len(hi),
        flagged,
    )


def read_articles(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return rows[:limit] if limit else rows


async def run(path: Path, limit: int | None, redis_url: str | None, seed: int) -> int:
    rows = read_articles(path, limit)
    params = MinHashParams()
    canon = canonical_shingles(rows)
    variants = make_variants(rows, seed, canon)
    editable = {v.original for v in variants}

    started = time.perf_counter()
    decisions = {}
    async with scratch_index(redis_url, params) as (_client, index):
        for items in (
            [(r["id"], r["text"]) for r in rows],
            [(v.id, v.text) for v in variants],
        ):
            for start in range(0, len(items), 64):
                feats = keyed_features(items[start : start + 64], params)
                for d in await index.check_and_insert(feats):
                    decisions[d.article_id] = d
    elapsed = time.perf_counter() - started

    by_recipe: dict[str, dict[str, list[Variant]]] = defaultdict(lambda: defaultdict(list))
    sims: dict[str, list[float]] = defaultdict(list)
    for v in variants:
        found = outcome(v, decisions[v.id])
        if found == "tp":
            sims[v.recipe].append(decisions[v.id].similarity)
        by_recipe[v.recipe][found].append(v)

    def line(name: str, groups: dict[str, list[Variant]]) -> str:
        vs = [v for g in groups.values() for v in g]
        tp, wrong = len(groups["tp"]), len(groups["wrong"])
        hi = [v for v in vs if v.true_j >= 0.8]
        hi_tp = [v for v in groups["tp"] if v.true_j >= 0.8]
        prec = tp / (tp + wrong) if tp + wrong else 1.0
        rec = tp / len(vs) if vs else 0.0
        rec_hi = len(hi_tp) / len(hi) if hi else float("nan")
        return (
            f"{name:<20} {len(vs):>6} {prec:>9.4f} {rec:>8.4f} {len(hi):>7} {rec_hi:>9.4f} "
            f"{statistics.median([v.true_j for v in vs]):>7.3f} "
            f"{statistics.median([v.raw_j for v in vs]):>7.3f}"
        )

    print(f"near-duplicate evaluation: {len(rows)} originals from {path.name} "
          f"({len(editable)} long enough to edit), "
          f"{len(variants)} variants, threshold 0.8, {params.num_perm} perms, "
          f"{params.bands}x{params.rows} bands; index time {elapsed:.1f}s")  # fmt: skip
    print(f"{'recipe':<20} {'n':>6} {'precision':>9} {'recall':>8} {'n J>=.8':>7} "
          f"{'rec J>=.8':>9} {'med J':>7} {'raw J':>7}")  # fmt: skip
    total: dict[str, list[Variant]] = defaultdict(list)
    for name in RECIPES:
        print(line(name, by_recipe[name]))
        for k, vs in by_recipe[name].items():
            total[k].extend(vs)
    print(line("ALL", total))
    result = overall(rows, variants, decisions)
    flagged = result.originals_flagged
    print(f"\noverall precision (originals flagged count as false positives): "
          f"{result.precision:.4f}")  # fmt: skip
    print(f"overall recall on variants with true J >= 0.8: {result.recall_hi:.4f} "
          f"({result.found_hi}/{result.hi})")  # fmt: skip
    print(f"false positives among the {len(rows)} different originals (same-category hard "
          f"negatives included): {len(flagged)} {flagged[:5]}")  # fmt: skip

    by_cat: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_cat[r["category"]].append(r["id"])
    pair_rng = random.Random(seed + 1)
    neg = []
    for _ in range(3000):
        ids = by_cat[pair_rng.choice(list(by_cat))]
        if len(ids) > 1:
            a, b = pair_rng.sample(ids, 2)
            neg.append(jaccard(canon[a], canon[b]))
    print(f"true J of 3000 random same-category pairs: {_quantiles(neg)}  max {max(neg):.3f}")
    print("\nestimated similarity of detected near/exact duplicates, by recipe:")
    for name in RECIPES:
        print(f"  {name:<20} {_quantiles(sims[name])}")
    print("true J of variants, by recipe:")
    for name in RECIPES:
        print(f"  {name:<20} {_quantiles([v.true_j for g in by_recipe[name].values() for v in g])}")
    ok = result.precision >= 0.99 and result.recall_hi >= 0.95 and not flagged
    print(f"\ngoals (precision >= 0.99, recall >= 0.95 on J >= 0.8, no FP among originals): "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return 0


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: str
    cluster_id: str | None


def export(path: Path, limit: int | None, seed: int, out: Path) -> int:
    """The originals, then their variants, as JSON lines (id, text, original for variants): the
    input of an evaluation through the running stage (``make bench-cluster``)."""
    rows = read_articles(path, limit)
    with out.open("w", encoding="utf-8") as file:
        for r in rows:
            file.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
        for v in make_variants(rows, seed):
            file.write(json.dumps({"id": v.id, "text": v.text, "original": v.original}) + "\n")
    return 0


def score_verdicts(path: Path, limit: int | None, seed: int, verdicts_file: Path) -> int:
    """Score the running stage's verdicts (JSON lines: id, status, cluster_id) on the exported
    articles; prints one JSON object."""
    rows = read_articles(path, limit)
    variants = make_variants(rows, seed)
    verdicts: dict[str, Verdict] = {}
    for line in verdicts_file.open(encoding="utf-8"):
        item = json.loads(line)
        verdicts[item["id"]] = _Verdict(item["status"], item.get("cluster_id"))
    missing = [r["id"] for r in rows if r["id"] not in verdicts]
    missing += [v.id for v in variants if v.id not in verdicts]
    if missing:
        raise SystemExit(f"{len(missing)} articles have no verdict, e.g. {missing[:3]}")
    result = overall(rows, variants, verdicts)
    summary = {
        "precision": result.precision,
        "recall_hi": result.recall_hi,
        "found_hi": result.found_hi,
        "hi": result.hi,
        "originals_flagged": len(result.originals_flagged),
    }
    print(json.dumps(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval or a .jsonl")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N articles")
    parser.add_argument("--redis-url", default=None, help="default: a private redis-server")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--export", type=Path, help="write originals and variants here, and stop")
    parser.add_argument("--score", type=Path, help="score these verdicts of a running stage")
    args = parser.parse_args(argv)
    data: Path = args.data
    path = data / "news" / "10kgnad_de.jsonl" if data.is_dir() else data
    if args.export:
        return export(path, args.limit, args.seed, args.export)
    if args.score:
        return score_verdicts(path, args.limit, args.seed, args.score)
    return asyncio.run(run(path, args.limit, args.redis_url, args.seed))


if __name__ == "__main__":
    sys.exit(main())
