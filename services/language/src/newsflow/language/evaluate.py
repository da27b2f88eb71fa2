"""Language identification evaluation: ``make eval-language DATA=../shared/eval``.

On the lingua test data (75 languages; sentences, word pairs, single words) and on synthetic
articles built from its sentences (a main language, a foreign boilerplate header and footer,
sometimes a short foreign paragraph), it reports, side by side in one run, bare fastText lid.176
(one prediction on the whole text, newlines replaced) and newsflow's identifier: accuracy per
language, macro accuracy per kind, the most frequent confusions, and speed.
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


def _articles(sentences: dict[str, list[str]], n_per_lang: int, seed: int) -> list[tuple[str, str]]:
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
            out.append((lang, "\n".join(parts)))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--limit", type=int, default=None, help="samples per language and kind")
    parser.add_argument("--articles", type=int, default=20, help="synthetic articles per language")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    settings = load_settings()
    ours = LanguageIdentifier(
        min_confidence=settings.language_min_confidence,
        min_letters=settings.language_min_letters,
    )
    model = ours._model

    def bare(text: str) -> str:
        labels, _ = model.predict(text.replace("\n", " "), k=1)
        return str(labels[0]).removeprefix("__label__")

    def newsflow(text: str) -> str:
        return ours.identify(text).code

    kinds = {
        k: _load(args.data, k, args.limit) for k in ("sentences", "word-pairs", "single-words")
    }
    sentences = _load(args.data, "sentences", None)
    kinds["articles"] = defaultdict(list)
    for lang, text in _articles(sentences, args.articles, args.seed):
        kinds["articles"][lang].append(text)

    results = {}
    for kind, samples in kinds.items():
        for name, fn in (("fastText", bare), ("newsflow", newsflow)):
            results[(kind, name)] = _score(name, fn, samples)

    # Calibration: how often newsflow is right at each stated confidence (answers, not und).
    bins = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01]
    reliability: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for kind in ("sentences", "articles"):
        for lang, texts in kinds[kind].items():
            for text in texts:
                section = ours.identify(text)
                if section.code == "und":
                    continue
                b = next(i for i, edge in enumerate(bins) if section.confidence < edge)
                reliability[b].append((section.confidence, _norm(section.code) == _norm(lang)))

    # language_hint as a prior, on the confusable sets: the right hint, and a wrong sibling.
    sets = [["nb", "nn", "da", "sv"], ["bs", "hr", "sr"], ["ms", "id"],
            ["ru", "uk", "bg", "mk", "be"], ["fa", "ur", "ar"], ["zh", "ja"]]  # fmt: skip
    hint_rows = []
    for group in sets:
        for lang in group:
            texts = kinds["sentences"].get(lang, [])
            sibling = next(x for x in group if x != lang)
            for label, hint in (("none", None), ("right", lang), ("wrong", sibling)):
                right = sum(
                    1 for t in texts if _norm(ours.identify(t, hint=hint).code) == _norm(lang)
                )
                hint_rows.append((lang, label, right / len(texts) if texts else 0.0))

    langs = sorted(kinds["sentences"])
    print("accuracy per language (sentences: fastText / newsflow; articles: fastText / newsflow)")
    for lang in langs:
        s_ft = results[("sentences", "fastText")][0].get(lang, 0)
        s_nf = results[("sentences", "newsflow")][0].get(lang, 0)
        a_ft = results[("articles", "fastText")][0].get(lang, 0)
        a_nf = results[("articles", "newsflow")][0].get(lang, 0)
        print(f"  {lang:<4} {s_ft:6.3f} {s_nf:6.3f}   {a_ft:6.3f} {a_nf:6.3f}")
    print(f"\n{'kind':<14} {'fastText macro':>15} {'newsflow macro':>15} {'ft/s':>9} {'nf/s':>9}")
    for kind in kinds:
        ft, nf = results[(kind, "fastText")], results[(kind, "newsflow")]
        macro_ft = sum(ft[0].values()) / len(ft[0])
        macro_nf = sum(nf[0].values()) / len(nf[0])
        print(f"{kind:<14} {macro_ft:>15.4f} {macro_nf:>15.4f} {ft[2]:>9,.0f} {nf[2]:>9,.0f}")
    print("\ncalibration (sentences + articles; answers only): confidence bin, n, mean, accuracy")
    total = sum(len(v) for v in reliability.values())
    ece = 0.0
    for b in sorted(reliability):
        rows = reliability[b]
        mean = sum(c for c, _ in rows) / len(rows)
        acc = sum(1 for _, ok in rows if ok) / len(rows)
        ece += len(rows) / total * abs(mean - acc)
        low = 0.0 if b == 0 else bins[b - 1]
        print(f"  [{low:.2f}, {min(bins[b], 1.0):.2f})  {len(rows):>6}  {mean:.3f}  {acc:.3f}")
    print(f"  expected calibration error: {ece:.4f}")
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
