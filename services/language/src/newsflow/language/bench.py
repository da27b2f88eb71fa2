"""Language identification speed on given articles, bare fastText beside newsflow's identifier.

``python -m newsflow.language.bench --articles FILE.jsonl [--json]`` (``make bench`` calls it
with the articles the running services get). Bare: one lid.176 prediction per article (newlines
replaced, no truncation). newsflow: the identifier the service runs, with mojibake repair, a
read batch at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from newsflow.language.logic import LanguageIdentifier
from newsflow.shared.settings import load_settings
from newsflow.shared.textrepair import repair


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=Path, required=True, help="JSONL with title, text")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    docs = [json.loads(line) for line in args.articles.open(encoding="utf-8")]
    settings = load_settings()
    identifier = LanguageIdentifier.from_settings(settings)
    model = identifier._model
    for doc in docs[:50]:  # warm-up
        identifier.identify(doc["text"], doc.get("title", ""))
    started = time.perf_counter()
    for doc in docs:
        model.predict(f"{doc.get('title', '')} {doc['text']}".replace("\n", " "), k=1)
    bare = len(docs) / (time.perf_counter() - started)
    started = time.perf_counter()
    size = settings.batch_size  # the service identifies the articles of one read together
    for first in range(0, len(docs), size):
        identifier.identify_many(
            [
                (repair(doc["text"])[0], repair(doc.get("title", ""))[0], None)
                for doc in docs[first : first + size]
            ]
        )
    ours = len(docs) / (time.perf_counter() - started)
    result = {"articles": len(docs), "bare_fasttext": bare, "identifier": ours}
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{len(docs)} articles: bare fastText {bare:,.0f}/s, newsflow identifier "
            f"{ours:,.0f}/s (ratio {ours / bare:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
