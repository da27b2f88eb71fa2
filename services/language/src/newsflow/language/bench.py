"""Language identification speed on given articles, bare fastText beside newsflow's identifier.

``python -m newsflow.language.bench --articles FILE.jsonl [--json] [--bare-only]`` (``make
bench`` calls it with the articles the running services get; ``--bare-only`` around each
running-stage measurement). Bare: one lid.176 prediction per article (newlines
replaced, no truncation). newsflow: the identifier the service runs, with mojibake repair, a
read batch at a time, starting with no token vectors kept (and again on a second pass).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from newsflow.language.logic import LanguageIdentifier, default_model_path
from newsflow.shared.settings import load_settings
from newsflow.shared.textrepair import repair

# Languages in other scripts than Latin, for --langid: Cyrillic, Arabic, Devanagari, Han, kana,
# Hangul, Greek, Hebrew, Thai.
OTHER_SCRIPTS = ("ru", "ar", "hi", "zh", "ja", "ko", "el", "he", "th")
# Sentence ends, for with_lines: a full stop, question or exclamation mark before white space.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def bare_rate(model: Any, docs: list[dict[str, str]], passes: int = 1) -> float:
    """Articles/s of bare fastText: one prediction per article, newlines replaced, over
    ``passes`` passes through the articles (one window)."""
    texts = [f"{doc.get('title', '')} {doc['text']}".replace("\n", " ") for doc in docs]
    started = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            model.predict(text, k=1)
    return passes * len(docs) / (time.perf_counter() - started)


def _rates(
    identifier: LanguageIdentifier,
    docs: list[dict[str, str]],
    batch: int,
    rounds: int = 3,
    passes: int = 1,
    warm: bool = False,
) -> tuple[float, float, float]:
    """(bare fastText, identifier, identifier with the articles' words kept) articles/s on the
    same documents, each timed over ``passes`` passes through them: the best of ``rounds``
    alternating runs of each (this VM's speed drifts within seconds; the best run is the one
    least disturbed). Each pass of the identifier starts with no token vectors kept
    (lid176.py), as a service that has never seen these articles; the third figure reads them
    once more with their words kept, as a service that has seen the same words (only when
    ``warm``; else 0)."""
    bare = ours = kept = 0.0

    def identify_all(forget: bool) -> float:
        started = time.perf_counter()
        for _ in range(passes):
            if forget:
                identifier.forget_tokens()
            for first in range(0, len(docs), batch):  # the service reads a batch at once
                identifier.identify_many(
                    [
                        (repair(doc["text"])[0], repair(doc.get("title", ""))[0], None)
                        for doc in docs[first : first + batch]
                    ]
                )
        return passes * len(docs) / (time.perf_counter() - started)

    for _ in range(rounds):
        bare = max(bare, bare_rate(identifier._model, docs, passes))
        ours = max(ours, identify_all(forget=True))
        if warm:
            kept = max(kept, identify_all(forget=False))
    return bare, ours, kept


def with_lines(docs: list[dict[str, str]], sentences_per_line: int) -> list[dict[str, str]]:
    """The same articles with a line break after every ``sentences_per_line`` sentences:
    scraped news comes in paragraphs and short lines, each a piece the identifier predicts on
    its own (bare fastText still reads the whole text at once)."""
    out = []
    for doc in docs:
        sentences = _SENTENCE_END.split(doc["text"])
        lines = [
            " ".join(sentences[i : i + sentences_per_line])
            for i in range(0, len(sentences), sentences_per_line)
        ]
        out.append({**doc, "text": "\n".join(lines)})
    return out


def pseudo_articles(folder: Path, code: str, sentences: int = 15) -> list[dict[str, str]]:
    """Articles of ``sentences`` consecutive test sentences of one language."""
    lines = (folder / f"{code}.txt").read_text(encoding="utf-8").splitlines()
    return [
        {"title": "", "text": " ".join(lines[i : i + sentences])}
        for i in range(0, len(lines) - sentences + 1, sentences)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=Path, required=True, help="JSONL with title, text")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--batch-size", type=int, default=None, help="articles per read")
    parser.add_argument(
        "--langid",
        type=Path,
        default=None,
        help="folder of <code>.txt sentence files: also measure articles in other scripts",
    )
    parser.add_argument(
        "--bare-only", action="store_true", help="only bare fastText (quick; no lingua load)"
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=1,
        help="with --bare-only: passes through the articles timed as one window",
    )
    args = parser.parse_args(argv)
    docs = [json.loads(line) for line in args.articles.open(encoding="utf-8")]
    if args.bare_only:
        import fasttext

        model = fasttext.load_model(str(default_model_path()))
        bare_rate(model, docs[:50])  # warm-up
        rate = bare_rate(model, docs, args.passes)
        print(json.dumps({"articles": len(docs), "bare_fasttext": rate}))
        return 0
    settings = load_settings()
    batch = args.batch_size or settings.batch_size
    identifier = LanguageIdentifier.from_settings(settings)
    for doc in docs[:50]:  # warm-up
        identifier.identify(doc["text"], doc.get("title", ""))
    bare, ours, warm = _rates(identifier, docs, batch, warm=True)
    result: dict[str, object] = {
        "articles": len(docs),
        "bare_fasttext": bare,
        "identifier": ours,
        "identifier_words_kept": warm,
    }
    by_language: dict[str, float] = {}
    if args.langid is not None:
        for code in OTHER_SCRIPTS:
            if (args.langid / f"{code}.txt").is_file():
                few = pseudo_articles(args.langid, code)  # ~13: timed over passes
                other_bare, other_ours, _ = _rates(
                    identifier, few, batch, passes=max(1, 100 // max(1, len(few)))
                )
                by_language[code] = other_ours / other_bare
        result["other_scripts"] = by_language
    # The same articles in paragraphs of three sentences, and one sentence per line.
    by_lines: dict[str, float] = {}
    for per_line in (3, 1):
        lined = with_lines(docs, per_line)
        lines = sum(doc["text"].count("\n") + 1 for doc in lined) / len(lined)
        lined_bare, lined_ours, _ = _rates(identifier, lined, batch)
        by_lines[f"{lines:.1f}"] = lined_ours / lined_bare
    result["by_lines"] = by_lines
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{len(docs)} articles: bare fastText {bare:,.0f}/s, newsflow identifier "
            f"{ours:,.0f}/s (ratio {ours / bare:.2f}; {warm / bare:.2f} on a second pass, its "
            "words kept)"
        )
        if by_language:
            ratios = ", ".join(f"{code} {ratio:.2f}" for code, ratio in by_language.items())
            print(f"other scripts, identifier / bare fastText: {ratios}")
        in_lines = ", ".join(f"{n} lines {ratio:.2f}" for n, ratio in by_lines.items())
        print(f"the same articles in lines, identifier / bare fastText: {in_lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
