"""Word-class vectors from a registry lexicon, for a pipeline's static-vector input.

``spacy-lookups-data`` (MIT, on PyPI) ships, for German, English and Spanish, a Brown cluster
and a log-probability for each of a million case-sensitive word forms, computed by spaCy from
large web and Wikipedia text. A cluster groups words used alike: German surnames share one
("Merkel", "Steinmeier"), instruments another ("Violine", "Gitarre"), which is what a pipeline
trained on a few thousand gold sentences cannot learn from spelling alone (in German every noun
is capitalised). Each of the ``top`` most frequent words with a cluster gets the vector of its
(cluster, frequency band): a fixed random vector per cluster next to a one-hot band. Rows are
shared, so the table costs only its keys (about 12 bytes a word) in the pipeline's package.
Used when training only (``make train-ner``); the trained package holds the vectors.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

BANDS = 8
CLUSTER_DIM = 40
SOURCE = {
    "name": "spacy-lookups-data (Brown clusters, word probabilities)",
    "kind": "lexicon",
    "use": "static vectors",
    "license": "MIT",
    "citation": "explosion/spacy-lookups-data 1.0.5 (PyPI), lexeme_cluster and lexeme_prob",
}


def _table(lang: str, name: str) -> dict[str, Any]:
    data = resources.files("spacy_lookups_data") / "data" / f"{lang}_{name}.json.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        table: dict[str, Any] = json.load(text)
    return table


def band(logprob: float) -> int:
    """Frequency band 0..7 of a word's log-probability (0: the most frequent)."""
    return min(max(int(-logprob) // 2, 1), BANDS) - 1


def build_vectors(lang: str, top: int, out: Path, seed: int = 0) -> int:
    """Write a blank ``lang`` pipeline holding the vectors to ``out`` (what spaCy's
    ``[initialize] vectors`` loads); returns how many words have one."""
    import numpy as np
    import spacy
    from spacy.strings import get_string_id
    from spacy.vectors import Vectors

    clusters = _table(lang, "lexeme_cluster")
    probs = _table(lang, "lexeme_prob")
    words = [w for w in sorted(probs, key=probs.__getitem__, reverse=True) if clusters.get(w)]
    words = words[:top]
    rng = np.random.default_rng(seed)
    rows: dict[tuple[int, int], int] = {}
    keys: list[int] = []
    row_of: list[int] = []
    for word in words:
        cell = (int(clusters[word]), band(float(probs[word])))
        row_of.append(rows.setdefault(cell, len(rows)))
        keys.append(get_string_id(word))
    data = np.zeros((len(rows), CLUSTER_DIM + BANDS), dtype="float32")
    cluster_vectors: dict[int, Any] = {}
    for (cluster, b), row in rows.items():
        if cluster not in cluster_vectors:
            vector = rng.standard_normal(CLUSTER_DIM).astype("float32")
            cluster_vectors[cluster] = vector / np.sqrt(CLUSTER_DIM)
        data[row, :CLUSTER_DIM] = cluster_vectors[cluster]
        data[row, CLUSTER_DIM + b] = 1.0
    vectors = Vectors(data=data)
    for word_key, row in zip(keys, row_of, strict=True):
        vectors.add(word_key, row=row)
    nlp = spacy.blank(lang)
    nlp.vocab.vectors = vectors
    nlp.to_disk(out)
    return len(words)
