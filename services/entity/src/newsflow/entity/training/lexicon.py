"""Static vectors from registry lexicons, for a pipeline's static-vector input.

Word classes (German): ``spacy-lookups-data`` (MIT, on PyPI) ships, for German, English and
Spanish, a Brown cluster and a log-probability for each of a million case-sensitive word forms,
computed by spaCy from large web and Wikipedia text. A cluster groups words used alike: German
surnames share one ("Merkel", "Steinmeier"), instruments another ("Violine", "Gitarre"), which
is what a pipeline trained on a few thousand gold sentences cannot learn from spelling alone (in
German every noun is capitalised). Each of the ``top`` most frequent words with a cluster gets
the vector of its (cluster, frequency band): the sum of fixed random vectors of the cluster's
path prefixes, next to a one-hot band. Rows are shared, so the table costs only its keys (about
12 bytes a word) in the pipeline's package.

Word forms (Swedish, Danish): wordfreq (Apache 2.0 code, CC BY-SA 4.0 data, on PyPI) gives how
often each of a language's most common words is written, spacy-lookups-data's lemma tables
which word forms are the language's common words (660,000 Swedish, 553,000 Danish forms). In
these languages only names and a sentence's first word are capitalised, and a name is often also
a common word ("Björn", "Ekonomi" opening a sentence): each of the ``top`` most frequent words,
lower-case and capitalised, gets its frequency band and whether the lemma table knows it as a
common word and as a capitalised name (the Danish table lists places, "Danmark", "København").

Used when training only (``make train-ner``); the trained package holds the vectors.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

Kind = Literal["clusters", "forms"]

BANDS = 8
CLUSTER_DIM = 40
PREFIXES = (4, 8, 0)  # a Brown path's first 4 and 8 steps, and all of it (0)
SOURCES: dict[Kind, dict[str, str]] = {
    "clusters": {
        "name": "spacy-lookups-data (Brown clusters, word probabilities)",
        "kind": "lexicon",
        "use": "static vectors",
        "license": "MIT",
        "citation": "explosion/spacy-lookups-data 1.0.5 (PyPI), lexeme_cluster and lexeme_prob",
    },
    "forms": {
        "name": "wordfreq frequencies and spacy-lookups-data lemma tables (word forms)",
        "kind": "lexicon",
        "use": "static vectors",
        "license": "CC BY-SA 4.0 (wordfreq data), MIT (spacy-lookups-data)",
        "citation": "rspeer/wordfreq 3.1.1 (PyPI); explosion/spacy-lookups-data 1.0.5 (PyPI), "
        "lemma_lookup",
    },
}


def _table(lang: str, name: str) -> dict[str, Any]:
    data = resources.files("spacy_lookups_data") / "data" / f"{lang}_{name}.json.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        table: dict[str, Any] = json.load(text)
    return table


def band(logprob: float) -> int:
    """Frequency band 0..7 of a word's log-probability (0: the most frequent)."""
    return min(max(int(-logprob) // 2, 1), BANDS) - 1


def build_vectors(
    kind: Kind, lang: str, top: int, out: Path, seed: int = 0, also: tuple[str, ...] = ()
) -> int:
    """Write a blank ``lang`` pipeline holding the ``kind`` vectors to ``out`` (what spaCy's
    ``[initialize] vectors`` loads); returns how many word forms have one."""
    if kind == "clusters":
        return _cluster_vectors(lang, top, out, seed)
    return _form_vectors((lang, *also), top, out)


def form_table(
    words: list[tuple[str, float]], known: set[str]
) -> dict[str, tuple[int, bool, bool]]:
    """(band, a common word, a capitalised name) of each of ``words`` (lower-case words and
    their Zipf frequency) and of its capitalised form, and of each capitalised form ``known``
    lists; ``known``: the lemma table's word forms."""
    cells: dict[str, tuple[int, bool, bool]] = {}
    for word, zipf in words:
        capital = word[:1].upper() + word[1:]
        cell = (min(max(int(8 - zipf), 0), BANDS - 1), word in known, capital in known)
        cells.setdefault(word, cell)
        cells.setdefault(capital, cell)
    for form in known:
        if form[:1].isupper() and form not in cells:
            cells[form] = (BANDS - 1, form.lower() in known, True)
    return cells


def _form_vectors(langs: tuple[str, ...], top: int, out: Path) -> int:
    """The word forms of each of ``langs``; a form two of them list keeps the first one's."""
    import numpy as np
    import spacy
    from spacy.vectors import Vectors

    # a training-only dependency (uv group "train"), not installed where mypy runs in CI
    from wordfreq import top_n_list, zipf_frequency  # type: ignore[import-not-found,unused-ignore]

    cells: dict[str, tuple[int, bool, bool]] = {}
    for lang in langs:
        lemmas = _table(lang, "lemma_lookup")  # form -> lemma, for forms other than the lemma
        known = set(lemmas) | set(lemmas.values())
        words = [(w, zipf_frequency(w, lang)) for w in top_n_list(lang, top) if w.isalpha()]
        for form, cell in form_table(words, known).items():
            cells.setdefault(form, cell)
    rows: dict[tuple[int, bool, bool], int] = {}
    for cell in cells.values():
        rows.setdefault(cell, len(rows))
    data = np.zeros((len(rows), BANDS + 2), dtype="float32")
    for (b, common, name), row in rows.items():
        data[row, b] = 1.0
        data[row, BANDS] = float(common)
        data[row, BANDS + 1] = float(name)
    vectors = Vectors(data=data)
    for form, cell in cells.items():
        vectors.add(form, row=rows[cell])
    nlp = spacy.blank(langs[0])
    nlp.vocab.vectors = vectors
    nlp.to_disk(out)
    return len(cells)


def _cluster_vectors(lang: str, top: int, out: Path, seed: int = 0) -> int:
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
    # A cluster's vector: the sum of fixed random vectors of its path's prefixes (spaCy keeps
    # a Brown path reversed in an int, so the first k steps are its k low bits), so clusters
    # that part late in the tree lie close together.
    prefix_vectors: dict[tuple[int, int], Any] = {}
    for (cluster, b), row in rows.items():
        for k in PREFIXES:
            prefix = (k, cluster & ((1 << k) - 1) if k else cluster)
            if prefix not in prefix_vectors:
                vector = rng.standard_normal(CLUSTER_DIM).astype("float32")
                prefix_vectors[prefix] = vector / np.sqrt(CLUSTER_DIM * len(PREFIXES))
            data[row, :CLUSTER_DIM] += prefix_vectors[prefix]
        data[row, CLUSTER_DIM + b] = 1.0
    vectors = Vectors(data=data)
    for word_key, row in zip(keys, row_of, strict=True):
        vectors.add(word_key, row=row)
    nlp = spacy.blank(lang)
    nlp.vocab.vectors = vectors
    nlp.to_disk(out)
    return len(words)
