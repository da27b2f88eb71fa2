"""What each of newsflow's own NER pipelines is trained on: one recipe a language.

Paths are relative to the ``DATA`` folder (``../shared``): ``train/ner/...`` holds train splits,
``eval/ner/...`` the dev files. A source is used whole for training (``train``), whole for model
selection and scoring (``dev``), or split by :func:`newsflow.entity.goldsets.held_out` into a
trained part and a held-out part (``split``) that is never trained on and is where the
pipeline's reported score on that source comes from; ``train_part`` trains on the same part
of a split source without scoring its held-out part (another language's data).

Only PER, ORG and LOC are trained: the gold sets that have a MISC class (Swedish web news,
GermEval's OTH) define it differently from each other and Universal NER has none, so MISC spans
are dropped from the training data rather than taught as three different things.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from newsflow.entity.training.lexicon import Kind

Use = Literal["train", "dev", "split", "train_part"]
Reader = Literal["uner", "wikiann", "bare", "germeval"]
# A config value that differs from ner.cfg: (dotted section.key path, value; a tuple is a list).
Override = tuple[str, int | float | str | tuple[int, ...]]

TYPES = ("PER", "ORG", "LOC")

UNER_LICENCE = "CC BY-SA 4.0"
UNER_CITE = "Universal NER v1 (Mayhew et al., NAACL 2024)"
WIKIANN_LICENCE = "CC BY-SA (Wikipedia text); the dataset states no licence of its own"
WIKIANN_CITE = "WikiANN / PAN-X (Pan et al., ACL 2017), balanced splits of Rahimi et al. (ACL 2019)"


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    path: str
    reader: Reader
    use: Use
    kind: Literal["gold", "silver"]
    licence: str
    citation: str
    limit: int | None = None  # first N sentences of the trained part

    @property
    def trained(self) -> bool:
        return self.use in ("train", "split", "train_part")

    @property
    def scored(self) -> bool:
        return self.use in ("dev", "split")


@dataclass(frozen=True, slots=True)
class Lexicon:
    kind: Kind  # "clusters": German word classes; "forms": word forms (lexicon.py)
    top: int  # vectors for this many of its most frequent words
    also: tuple[str, ...] = ()  # "forms": other languages' forms too (after the pipeline's own)


@dataclass(frozen=True, slots=True)
class Recipe:
    code: str  # the language this pipeline serves ("xx": the multilingual fallback)
    spacy_lang: str  # the spaCy language class (tokenizer rules)
    sources: tuple[Source, ...]
    max_steps: int
    upper_share: float = 0.04  # share of training sentences added again in capitals (headlines)
    scripts: tuple[str, ...] = ("Latn",)  # what the pipeline reads (the fallback: only these)
    # "Hant": trained on Traditional Chinese characters (Simplified text is converted first).
    chinese: str | None = None
    # Config values that differ from ner.cfg for this language.
    overrides: tuple[Override, ...] = ()
    # Static vectors from registry lexicons (lexicon.py); None: no vectors (spacy-lookups-data
    # has word clusters for de, en and es only, lemma tables for sv, da, nl and pt).
    lexicon: Lexicon | None = None
    # Chinese: one token a character, tagged with its jieba word's place and part of speech
    # (zh_roles.py), embedded as one more feature.
    char_roles: bool = False

    @property
    def package(self) -> str:
        return f"{self.code}_newsflow_ner"


def _uner(lang: str, corpus: str, use: Use, limit: int | None = None) -> Source:
    folder = "train/ner/universalner" if use == "train" else "eval/ner/universalner"
    split = "train" if use == "train" else "dev"
    return Source(
        f"UNER {lang}_{corpus} {split}",
        f"{folder}/{lang}_{corpus}-ud-{split}.iob2",
        "uner",
        use,
        "gold",
        UNER_LICENCE,
        UNER_CITE,
        limit,
    )


def _wikiann(lang: str, limit: int | None = None) -> Source:
    return Source(
        f"WikiANN {lang} (silver)",
        f"train/ner/wikiann/wikiann_{lang}_train.txt",
        "wikiann",
        "split",
        "silver",
        WIKIANN_LICENCE,
        WIKIANN_CITE,
        limit,
    )


WEBBNYHETER = Source(
    "Swedish webbnyheter 2012",
    "eval/ner/swedish_webbnyheter/dev.txt",
    "bare",
    "split",
    "gold",
    "CC BY 4.0",
    "Swedish NER corpus of web news 2012 (Språkbanken; klintan/swedish-ner-corpus)",
)
# GermEval's dev file: its trained part for training, its held-out blocks for model selection
# and the reported score (never both on the same sentences).
GERMEVAL = Source(
    "GermEval 2014 dev",
    "eval/ner/germeval2014_de/dev.tsv",
    "germeval",
    "split",
    "gold",
    "CC BY 4.0",
    "GermEval 2014 NER shared task (Benikova et al., 2014)",
)


def wide(rows: tuple[int, int, int, int]) -> tuple[Override, ...]:
    """A wider encoder (96 instead of 64) for the pipelines with static vectors, with fewer hash
    rows (NORM, PREFIX, SUFFIX, SHAPE) so that the package stays under 10 MB: more width to
    combine the vectors with the spelling."""
    return (
        ("components.ner.model.tok2vec.encode.width", 96),
        ("components.ner.model.tok2vec.embed.width", 96),
        ("components.ner.model.tok2vec.embed.rows", rows),
    )


RECIPES: dict[str, Recipe] = {
    # Swedish and Danish gold trained together in both pipelines: the two languages share most
    # names and much of their spelling, and either alone is little for a pipeline without
    # pretrained vectors (measured on DDT dev: 0.684 Danish alone, 0.71-0.72 with Swedish).
    # Word-form vectors (lexicon.py) raised every score (F1, one run each, without -> with):
    # Swedish web news 0.787 -> 0.798, Talbanken dev 0.615 -> 0.630, DDT dev 0.714 -> 0.733
    # with Danish forms, 0.735 with Swedish ones too (the Danish pipeline reads Swedish text
    # in training, and wordfreq's Danish list is short: 29,000 words).
    "sv": Recipe(
        "sv",
        "sv",
        (
            _uner("sv", "talbanken", "train"),
            WEBBNYHETER,
            _uner("da", "ddt", "train"),
            _uner("sv", "talbanken", "dev"),
        ),
        max_steps=4000,
        lexicon=Lexicon("forms", 100_000),
        # 96 wide with a 3-layer encoder: Swedish web news 0.798 -> 0.804 (seed 0; Talbanken dev,
        # 23 entities, 0.630 -> 0.490) at 1.72x en_core_web_sm's words/s; with 4 layers 0.818,
        # but 1.44-1.48x, under the 1.5x the pipelines keep.
        overrides=(
            *wide((6000, 1200, 3000, 600)),
            ("components.ner.model.tok2vec.encode.depth", 3),
        ),
    ),
    "da": Recipe(
        "da",
        "da",
        (
            _uner("da", "ddt", "train"),
            _uner("sv", "talbanken", "train"),
            replace(WEBBNYHETER, use="train_part"),
            _uner("da", "ddt", "dev"),
        ),
        max_steps=4000,
        lexicon=Lexicon("forms", 100_000, also=("sv",)),
        # Not kept: 96 wide with 7000/1500/3500/700 rows, DDT dev 0.735 -> 0.747 (seed 0; seed 1:
        # 0.719 -> 0.754) but 1.47x en_core_web_sm's words/s, under the 1.5x the pipelines keep;
        # the same with a 3-layer encoder 0.736; a parser hidden layer of 128: 0.711.
    ),
    "zh": Recipe(
        "zh",
        "zh",
        (_uner("zh", "gsd", "train"), _uner("zh", "gsd", "dev")),
        max_steps=4000,
        upper_share=0.0,
        scripts=("Hani", "Latn"),
        chinese="Hant",  # GSD is written in Traditional characters
        # jieba's word roles as a feature: GSD dev F1 0.533 -> 0.588 (one run each; 0.590 with
        # 2,000 role rows and 5,000 suffix rows, a package over 10 MB; 0.583 with the jieba
        # word itself as a feature too).
        char_roles=True,
        # One token a character: a wider window (4 characters each side a layer) and more
        # width, since a character's features (norm, prefix, suffix) are all the same one.
        overrides=(
            ("components.ner.model.tok2vec.encode.window_size", 2),
            ("components.ner.model.tok2vec.encode.width", 96),
            ("components.ner.model.tok2vec.embed.width", 96),
            ("components.ner.model.hidden_width", 96),
        ),
    ),
    # GermEval's gold running text beside a quarter of WikiANN's silver fragments, and word
    # classes from the lexicon (measured on GermEval's held-out blocks, F1: all of WikiANN
    # 0.473, with the lexicon 0.523; 5,000 WikiANN sentences 0.555, with the lexicon 0.566,
    # with its clusters' path prefixes too 0.627; GermEval alone 0.472). WikiANN's automatic
    # labels call capitalised common nouns names ("Open-Access-Bewegung" ORG), which a German
    # pipeline learns all too well. Not kept: german-nouns' Wiktionary classes (common noun,
    # place, first name, surname) as five more vector columns, 0.610 (0.572 with its forms
    # outside the cluster table too); this recipe with seed 1 scores 0.606.
    "de": Recipe(
        "de",
        "de",
        (_wikiann("de", 5000), GERMEVAL),
        max_steps=4000,
        lexicon=Lexicon("clusters", 200_000),
    ),
    "nl": Recipe("nl", "nl", (_wikiann("nl"),), max_steps=5000),
    "pt": Recipe("pt", "pt", (_wikiann("pt"),), max_steps=5000),
    "xx": Recipe(
        "xx",
        "xx",
        (
            _wikiann("de", 5000),
            _wikiann("en", 5000),
            _wikiann("fr", 5000),
            _wikiann("nl", 5000),
            _wikiann("pt", 5000),
            _uner("sv", "talbanken", "train", 2500),
            _uner("da", "ddt", "train", 2500),
            replace(WEBBNYHETER, limit=2500),
            GERMEVAL,
            _uner("da", "ddt", "dev"),
        ),
        max_steps=7000,
    ),
}
