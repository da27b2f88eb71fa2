"""Language identification evaluation: ``make eval-language DATA=../shared/eval``.

On the lingua test data (75 languages; sentences, word pairs, single words) and on synthetic
articles built from its sentences (a main language, a foreign boilerplate header and footer,
sometimes a short foreign paragraph), it reports, side by side in one run: bare fastText lid.176
(one prediction on the whole text, newlines replaced), newsflow's identifier with fastText only,
newsflow as configured (fastText plus lingua's second opinion where fastText is unsure), both
on the text the service identifies (mojibake repaired first, as the service does), and
lingua in high-accuracy mode over all its 75 languages: accuracy per language, macro accuracy
per kind, speed and speed ratios, the second opinion's accuracy/speed trade-off, calibration,
language_hint on the confusable sets, and the most frequent confusions.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from newsflow.language.logic import LanguageIdentifier
from newsflow.shared.settings import load_settings
from newsflow.shared.textrepair import repair

# Second-opinion thresholds compared on sentences besides the configured one.
TRADEOFF = (0.5, 0.9, 0.97)
# lingua (all 75 languages) is slow: it is compared on sentences and articles only.
LINGUA_SKIP = frozenset({"word-pairs", "single-words"})
# Codes the data and the models spell differently.
_ALIASES = {"nb": "no", "iw": "he", "in": "id", "zh-hans": "zh", "zh-hant": "zh"}
_CHROME = {
    "en": ["Share this article", "Sign up for our newsletter", "All rights reserved"],
    "fa": ["اخبار روز | خبرگزاری", "همه حقوق محفوظ است"],
    "ru": ["Подписывайтесь на наш канал", "Все права защищены"],
    "de": ["Mehr zum Thema", "Alle Rechte vorbehalten"],
    "zh": ["版权所有", "分享到微信"],
}


def _norm(code: str) -> str:
    code = code.lower()
    code = _ALIASES.get(code, code)
    return code.split("-", 1)[0]


def _load(data: Path, kind: str, limit: int | None) -> dict[str, list[str]]:
    folder = data / "langid" / kind if (data / "langid").is_dir() else data / kind
    out = {}
    for path in sorted(folder.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        out[path.stem] = lines[:limit] if limit else lines
    return out


def _articles(
    sentences: dict[str, list[str]], n_per_lang: int, seed: int
) -> list[tuple[str, str, str]]:
    """(language, article with foreign boilerplate, the same article without it)."""
    rng = random.Random(seed)
    langs = sorted(sentences)
    out = []
    for lang in langs:
        pool = sentences[lang]
        for _ in range(n_per_lang):
            body = rng.sample(pool, k=min(len(pool), rng.randint(6, 10)))
            cut = len(body) // 2
            paragraphs = [" ".join(body[:cut]), " ".join(body[cut:])]
            chrome_lang = rng.choice([c for c in _CHROME if c != lang])
            header = rng.choice(_CHROME[chrome_lang])
            footer = rng.choice(_CHROME[rng.choice(list(_CHROME))])
            parts = [header, *paragraphs, footer]
            if rng.random() < 0.5:  # a short foreign paragraph, e.g. an author bio
                other = rng.choice([x for x in langs if x != lang])
                parts.insert(-1, rng.choice(sentences[other]))
            out.append((lang, "\n".join(parts), "\n".join(paragraphs)))
    return out


def _score(
    name: str, predict: Callable[[str], str], samples: dict[str, list[str]]
) -> tuple[dict[str, float], Counter[tuple[str, str]], float]:
    per_lang: dict[str, float] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    n = 0
    started = time.perf_counter()
    for lang, texts in samples.items():
        gold = _norm(lang)
        right = 0
        for text in texts:
            got = _norm(predict(text))
            n += 1
            if got == gold:
                right += 1
            else:
                confusions[(gold, got)] += 1
        per_lang[lang] = right / len(texts) if texts else 0.0
    rate = n / (time.perf_counter() - started)
    return per_lang, confusions, rate


def _speed(
    systems: list[tuple[str, Callable[[str], str]]], texts: list[str], rounds: int = 3
) -> dict[str, float]:
    """Texts/s of each system on the same texts: ``rounds`` alternating runs, the best of each
    (this VM's speed drifts within seconds; the best run is the one least disturbed)."""
    best = {name: 0.0 for name, _ in systems}
    for _ in range(rounds):
        for name, fn in systems:
            started = time.perf_counter()
            for text in texts:
                fn(text)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    return best


def _stated_and_right(rows: list[tuple[float, bool]]) -> tuple[float, float]:
    """A bin's mean stated confidence and its accuracy."""
    return sum(c for c, _ in rows) / len(rows), sum(1 for _, ok in rows if ok) / len(rows)


def _ece(reliability: dict[int, list[tuple[float, bool]]]) -> float:
    """Expected calibration error: the answers' mean |stated confidence - accuracy| per bin,
    weighted by the bin's share of the answers."""
    total = sum(len(rows) for rows in reliability.values())
    gap = 0.0
    for rows in reliability.values():
        mean, acc = _stated_and_right(rows)
        gap += len(rows) / total * abs(mean - acc)
    return gap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--limit", type=int, default=None, help="samples per language and kind")
    parser.add_argument("--articles", type=int, default=20, help="synthetic articles per language")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-lingua", action="store_true", help="skip lingua (all languages)")
    args = parser.parse_args(argv)

    settings = load_settings()
    ours = LanguageIdentifier.from_settings(settings)
    fasttext_only = LanguageIdentifier.from_settings(
        settings.model_copy(update={"language_second_opinion": False})
    )
    model = ours._model

    def bare(text: str) -> str:
        labels, _ = model.predict(text.replace("\n", " "), k=1)
        return str(labels[0]).removeprefix("__label__")

    def newsflow(text: str) -> str:
        return ours.identify(repair(text)[0]).code

    def newsflow_ft(text: str) -> str:
        return fasttext_only.identify(repair(text)[0]).code

    systems: list[tuple[str, Callable[[str], str]]] = [
        ("fastText", bare),
        ("nf-ftonly", newsflow_ft),
        ("newsflow", newsflow),
    ]
    if not args.no_lingua:
        from lingua import LanguageDetectorBuilder

        started = time.perf_counter()
        detector = (
            LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        )
        print(
            f"lingua high accuracy, 75 languages: loaded in {time.perf_counter() - started:.1f} s"
        )

        def lingua_all(text: str) -> str:
            found = detector.detect_language_of(text)
            return "und" if found is None else str(found.iso_code_639_1.name.lower())

        systems.append(("lingua", lingua_all))
    # Warm up: lingua loads each language's models the first time it is a candidate.
    for texts in _load(args.data, "sentences", 5).values():
        for text in texts:
            ours.identify(text)

    kinds = {
        k: _load(args.data, k, args.limit) for k in ("sentences", "word-pairs", "single-words")
    }
    sentences = _load(args.data, "sentences", None)
    kinds["articles"] = defaultdict(list)
    synthetic = _articles(sentences, args.articles, args.seed)
    for lang, text, _clean in synthetic:
        kinds["articles"][lang].append(text)

    results = {}
    for kind, samples in kinds.items():
        for name, fn in systems:
            if name == "lingua" and kind in LINGUA_SKIP:
                continue
            results[(kind, name)] = _score(name, fn, samples)

    # Speed side by side: every 10th sentence and every 5th article, alternating systems.
    speed_samples = {
        "sentences": [t for texts in kinds["sentences"].values() for t in texts[::10]],
        "articles": [text for _lang, text, _clean in synthetic[::5]],
    }
    speeds = {kind: _speed(systems, texts) for kind, texts in speed_samples.items()}

    # The second opinion's price: accuracy and speed on sentences at other thresholds.
    tradeoff = []
    for ask in TRADEOFF:
        variant = LanguageIdentifier.from_settings(
            settings.model_copy(update={"language_ask_below": ask})
        )
        variant.second = ours.second  # share the loaded lingua models

        def identify_at(text: str, variant: LanguageIdentifier = variant) -> str:
            return variant.identify(repair(text)[0]).code

        per_lang, _, rate = _score(f"ask<{ask}", identify_at, kinds["sentences"])
        tradeoff.append((ask, sum(per_lang.values()) / len(per_lang), rate))

    # Robustness: does the foreign boilerplate change the answer on the same article?
    changed = {name: 0 for name, _ in systems[:3]}
    for _lang, text, clean in synthetic:
        for name, fn in systems[:3]:
            changed[name] += _norm(fn(text)) != _norm(fn(clean))

    # Calibration: how often newsflow is right at each stated confidence (answers, not und),
    # over every kind (short texts too: the calibration weighs the amount of text).
    bins = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01]
    reliability: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    kind_ece: dict[str, float] = {}
    for kind in kinds:
        per_kind: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for lang, texts in kinds[kind].items():
            for text in texts:
                section = ours.identify(repair(text)[0])
                if section.code == "und":
                    continue
                b = next(i for i, edge in enumerate(bins) if section.confidence < edge)
                answer = (section.confidence, _norm(section.code) == _norm(lang))
                reliability[b].append(answer)
                per_kind[b].append(answer)
        kind_ece[kind] = _ece(per_kind)

    # language_hint as a prior, on the confusable sets: the right hint, and a wrong sibling.
    sets = [["nb", "nn", "da", "sv"], ["bs", "hr", "sr"], ["ms", "id"],
            ["ru", "uk", "bg", "mk", "be"], ["fa", "ur", "ar"], ["zh", "ja"]]  # fmt: skip
    hint_rows = []
    for group in sets:
        for lang in group:
            texts = kinds["sentences"].get(lang, [])
            sibling = next(x for x in group if x != lang)
            for label, hint in (("none", None), ("right", lang), ("wrong", sibling)):
                answers = [ours.identify(repair(t)[0], hint=hint).code for t in texts]
                right = sum(1 for code in answers if _norm(code) == _norm(lang))
                hint_rows.append((lang, label, right / len(texts) if texts else 0.0))

    names = [name for name, _ in systems]
    langs = sorted(kinds["sentences"])
    print("accuracy per language, sentences then articles:", " / ".join(names))
    for lang in langs:
        row = []
        for kind in ("sentences", "articles"):
            row.append(
                " ".join(
                    f"{results[(kind, n)][0].get(lang, 0):5.3f}"
                    for n in names
                    if (kind, n) in results
                )
            )
        print(f"  {lang:<4} {row[0]}   {row[1]}")
    print(f"\nmacro accuracy and texts/s per kind ({', '.join(names)})")
    print(
        f"{'kind':<14}"
        + "".join(f"{n:>11}" for n in names)
        + "".join(f"{n + '/s':>13}" for n in names)
    )
    for kind in kinds:
        macro_cells: list[str] = []
        rate_cells: list[str] = []
        for n in names:
            if (kind, n) not in results:
                macro_cells.append(f"{'-':>11}")
                rate_cells.append(f"{'-':>13}")
                continue
            per_lang, _, r = results[(kind, n)]
            macro_cells.append(f"{sum(per_lang.values()) / len(per_lang):>11.4f}")
            rate_cells.append(f"{r:>13,.0f}")
        print(f"{kind:<14}" + "".join(macro_cells) + "".join(rate_cells))
    print("(texts/s over each whole kind, one system after the other)")
    for kind, rates in speeds.items():
        count = len(speed_samples[kind])
        print(f"speed on {count} {kind}, best of 3 alternating runs (texts/s): "
              + ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items()))  # fmt: skip
        if "lingua" in rates:
            ratio = rates["newsflow"] / rates["lingua"]
            print(f"  newsflow / lingua high accuracy: {ratio:.1f}x (goal 20x)")
        print(f"  newsflow / bare fastText: {rates['newsflow'] / rates['fastText']:.2f}x")
    print("\nsynthetic articles whose answer the foreign boilerplate changed (vs. the same body):")
    for name, count in changed.items():
        print(f"  {name:<10} {count} of {len(synthetic)}")
    print(
        "\nsecond opinion threshold (fastText probability below which lingua is asked), sentences:"
    )
    print(f"  {'ask below':<10} {'macro':>7} {'texts/s':>9}")
    for ask, macro, rate in tradeoff:
        print(f"  {ask:<10} {macro:>7.4f} {rate:>9,.0f}")
    print("\ncalibration (every kind; answers only): confidence bin, n, mean, accuracy")
    for b in sorted(reliability):
        rows = reliability[b]
        mean, acc = _stated_and_right(rows)
        low = 0.0 if b == 0 else bins[b - 1]
        print(f"  [{low:.2f}, {min(bins[b], 1.0):.2f})  {len(rows):>6}  {mean:.3f}  {acc:.3f}")
    print(f"  expected calibration error: {_ece(reliability):.4f}; per kind: "
          + ", ".join(f"{kind} {ece:.4f}" for kind, ece in kind_ece.items()))  # fmt: skip
    print("\nlanguage_hint on confusable sets (sentences; accuracy with no / right / wrong hint):")
    for label in ("none", "right", "wrong"):
        values = [acc for _, lbl, acc in hint_rows if lbl == label]
        print(f"  {label:<6} macro {sum(values) / len(values):.4f}")
    for kind in ("sentences", "articles"):
        print(f"\nmost frequent confusions, {kind} (gold -> predicted: newsflow count):")
        for (gold, got), count in results[(kind, "newsflow")][1].most_common(12):
            print(f"  {gold} -> {got}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
