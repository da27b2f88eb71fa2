"""Train one of newsflow's own NER pipelines: ``make train-ner LANG=sv DATA=../shared``.

1. reads the recipe's sources (``recipes.py``), keeps PER/ORG/LOC, splits the ``split`` ones,
   adds a share of sentences again in capitals, and writes spaCy DocBins;
2. trains ``ner.cfg`` (tokenizer + ner with its own tok2vec; CPU, one thread, fixed seed, a
   fixed number of steps so a run is repeatable and bounded in time);
3. scores the best checkpoint on every scored source (span-exact P/R/F1 per type);
4. writes the pipeline into its workspace package ``services/entity/pipelines/<code>-newsflow-ner``
   with the scores, the data's attribution and the training figures in ``meta.json``.

Never run by the service or by CI (they load the committed packages).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from newsflow.entity.goldsets import (
    Sentence,
    read_germeval,
    read_token_label,
    read_uner,
    read_wikiann,
    score,
    split,
)
from newsflow.entity.training.lexicon import SOURCES as LEXICON_SOURCES
from newsflow.entity.training.recipes import RECIPES, TYPES, Recipe, Source

CONFIG = Path(__file__).with_name("ner.cfg")
ROLE_ROWS = 1000  # hash rows for the Chinese word roles (~240 seen: 4 places x jieba's tags)
VERSION = "0.1.0"
PIPELINES = Path("services/entity/pipelines")  # from the repository root, as make runs it


def read_source(data: Path, source: Source) -> list[Sentence]:
    path = data / source.path
    if source.reader == "uner":
        sents = read_uner(path)
    elif source.reader == "wikiann":
        sents = read_wikiann(path)
    elif source.reader == "bare":
        sents = read_token_label(path, 0, 1, None)
    else:
        sents = read_germeval(path)
    for s in sents:
        s.gold = {span for span in s.gold if span[2] in TYPES}
    return sents


def parts(data: Path, source: Source) -> tuple[list[Sentence], list[Sentence]]:
    """(trained on, scored on) of one source."""
    sents = read_source(data, source)
    if source.use == "train":
        train, dev = sents, []
    elif source.use == "dev":
        train, dev = [], sents
    elif source.use == "train_part":
        train, dev = split(sents)[0], []
    else:
        train, dev = split(sents)
    return train[: source.limit] if source.limit else train, dev


def to_docs(nlp: Any, sentences: list[Sentence]) -> tuple[list[Any], int]:
    """spaCy Docs with the gold spans as entities; spans that do not fall on token boundaries
    are widened to them ("expand"), overlapping ones dropped. Returns the docs and how many
    spans could not be placed at all."""
    from spacy.util import filter_spans

    docs = []
    lost = 0
    for sentence in sentences:
        doc = nlp.make_doc(sentence.text)
        spans = []
        for start, end, label in sorted(sentence.gold):
            span = doc.char_span(start, end, label=label) or doc.char_span(
                start, end, label=label, alignment_mode="expand"
            )
            if span is None:
                lost += 1
            else:
                spans.append(span)
        doc.ents = filter_spans(spans)
        docs.append(doc)
    return docs, lost


def upper_copies(sentences: list[Sentence], share: float, seed: int) -> list[Sentence]:
    """A share of the sentences in capitals (headlines, sports tables), offsets unchanged when
    upper-casing keeps every character's length (others are skipped)."""
    rng = random.Random(seed)
    out = []
    for s in rng.sample(sentences, int(len(sentences) * share)):
        upper = s.text.upper()
        if len(upper) == len(s.text):
            out.append(Sentence(upper, set(s.gold)))
    return out


def build_config(recipe: Recipe, train: Path, dev: Path) -> Any:
    import spacy
    from spacy.util import load_config

    config = load_config(CONFIG)
    blank = spacy.blank(recipe.spacy_lang).config
    config["nlp"]["lang"] = recipe.spacy_lang
    config["nlp"]["tokenizer"] = dict(blank["nlp"]["tokenizer"])
    config["initialize"]["tokenizer"] = dict(blank["initialize"]["tokenizer"])
    config["training"]["max_steps"] = recipe.max_steps
    for path, value in recipe.overrides:
        *sections, key = path.split(".")
        node = config
        for section in sections:
            node = node[section]
        node[key] = list(value) if isinstance(value, tuple) else value
    if recipe.char_roles:
        from newsflow.entity.training import zh_roles

        config["nlp"]["tokenizer"] = {"@tokenizers": zh_roles.NAME}
        config["initialize"]["tokenizer"] = {}
        embed = config["components"]["ner"]["model"]["tok2vec"]["embed"]
        attrs, rows = [*embed["attrs"], "TAG"], [*embed["rows"], ROLE_ROWS]
        # A character's suffix is the character: fewer rows keep the package under 10 MB.
        rows[attrs.index("SUFFIX")] = 3000
        embed["attrs"], embed["rows"] = attrs, rows
    config["paths"]["train"] = str(train)
    config["paths"]["dev"] = str(dev)
    return config


def evaluate(nlp: Any, sentences: list[Sentence]) -> tuple[dict[str, Any], float]:
    """Span-exact scores of the bare pipeline and its words/s on one thread."""
    started = time.perf_counter()
    predicted = [
        {(e.start_char, e.end_char, e.label_) for e in doc.ents}
        for doc in nlp.pipe((s.text for s in sentences), batch_size=64)
    ]
    seconds = time.perf_counter() - started
    words = sum(len(s.text.split()) for s in sentences)
    result = score([s.gold for s in sentences], predicted, TYPES)
    table = {
        t: {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4), "n": n}
        for t, (p, r, f, n) in result.items()
    }
    return table, words / seconds if seconds else 0.0


def package_dir(recipe: Recipe, out: Path = PIPELINES) -> Path:
    return out / recipe.package.replace("_", "-")


PYPROJECT = """[project]
name = "{dist}"
version = "{version}"
description = "newsflow's own spaCy NER pipeline for {code!r} (PER/ORG/LOC): make train-ner"
readme = "README.md"
license = {{ text = "CC BY-SA 4.0" }}
requires-python = ">=3.11"
dependencies = [{dependencies}]

[project.entry-points.spacy_models]
{package} = "{package}"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]
"""

INIT = '''"""newsflow's own NER pipeline, loaded by ``spacy.load("{package}")``."""

from pathlib import Path
from typing import Any

from spacy.util import get_model_meta, load_model_from_init_py
{imports}
__version__ = get_model_meta(Path(__file__).parent)["version"]


def load(**overrides: Any) -> Any:
    return load_model_from_init_py(__file__, **overrides)
'''


def readme(meta: dict[str, Any]) -> str:
    """The package's README: what it is, the data it was trained on with attribution, scores."""
    nf = meta["newsflow"]
    lines = [
        f"# {meta['lang']}_newsflow_ner {meta['version']}",
        "",
        meta["description"],
        f"Trained by `make train-ner LANG={nf['recipe']} DATA=../shared` (seed {nf['seed']}, "
        f"{nf['max_steps']} steps, {nf['training_sentences']} sentences, "
        f"{nf['training_minutes']} min on one CPU thread).",
        "",
        "## Data and attribution",
        "",
        "| source | kind | use | licence | citation |",
        "|---|---|---|---|---|",
    ]
    for s in meta["sources"]:
        use = s["use"] + (f" (first {s['limit']})" if "limit" in s else "")
        use += f" ({s['words']:,} words)" if "words" in s else ""
        lines.append(f"| {s['name']} | {s['kind']} | {use} | {s['license']} | {s['citation']} |")
    lines += [
        "",
        "`split`: sentence i is held out (never trained on; model selection and the score "
        "below) when (i // 20) % 10 == 0. The pipeline is a work derived from CC BY-SA data "
        "and is shared under CC BY-SA 4.0.",
        "",
        "## Scores (span-exact, PER/ORG/LOC micro; silver = automatic labels)",
        "",
        "| set | kind | sentences | P | R | F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, sc in nf["scores"].items():
        m = sc["micro"]
        lines.append(
            f"| {name} | {sc['kind']} | {sc['sentences']} | {m['p']:.3f} | {m['r']:.3f} "
            f"| {m['f']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def slim_strings(model: Path, labels: list[str]) -> None:
    """Keep only the entity labels in the model's string store: spaCy saves every string it has
    seen (each lexicon word form, each training word), a cache it refills from the text it reads
    (hash embeddings and vectors look words up by their hash), up to 2 MB of a package."""
    (model / "vocab" / "strings.json").write_text(json.dumps(sorted(labels)) + "\n")


def write_package(recipe: Recipe, model: Path, meta: dict[str, Any], out: Path) -> Path:
    """The trained pipeline as the module of its workspace package
    ``<out>/<code>-newsflow-ner`` (pyproject, README, ``__init__.py`` and the model folder)."""
    root = package_dir(recipe, out)
    module = root / recipe.package
    module.mkdir(parents=True, exist_ok=True)
    dependencies = ["spacy>=3.8,<3.9"]
    imports = ""
    roles = module / "char_roles.py"
    if recipe.char_roles:  # the tokenizer the pipeline names, in the package (zh_roles.py)
        shutil.copyfile(Path(__file__).with_name("zh_roles.py"), roles)
        dependencies += ["jieba>=0.42.1", "opencc-python-reimplemented>=0.1.7"]
        imports = "\nfrom . import char_roles  # noqa: F401  (registers the tokenizer)\n"
    elif roles.exists():
        roles.unlink()
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(
            dist=root.name,
            version=VERSION,
            code=recipe.code,
            package=recipe.package,
            dependencies=", ".join(f'"{d}"' for d in dependencies),
        )
    )
    (module / "__init__.py").write_text(INIT.format(package=recipe.package, imports=imports))
    (root / "README.md").write_text(readme(meta))
    target = module / f"{recipe.package}-{VERSION}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(model, target)
    slim_strings(target, meta["labels"]["ner"])
    (target / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    (module / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return target


def train(recipe: Recipe, data: Path, work: Path, out: Path, seed: int = 0) -> dict[str, Any]:
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin

    nlp = spacy.blank(recipe.spacy_lang)
    train_sents: list[Sentence] = []
    dev_sets: list[tuple[Source, list[Sentence]]] = []
    lost = 0
    for source in recipe.sources:
        trained, scored = parts(data, source)
        train_sents += trained
        if scored:
            dev_sets.append((source, scored))
        print(f"  {source.name}: {len(trained)} trained, {len(scored)} scored ({source.kind})")
    train_sents += upper_copies(train_sents, recipe.upper_share, seed)
    random.Random(seed).shuffle(train_sents)
    train_docs, lost = to_docs(nlp, train_sents)
    dev_docs, _ = to_docs(nlp, [s for _, sents in dev_sets for s in sents])
    print(f"  {len(train_docs)} training sentences ({lost} spans off token boundaries)")
    DocBin(docs=train_docs).to_disk(work / "train.spacy")
    DocBin(docs=dev_docs).to_disk(work / "dev.spacy")

    config = build_config(recipe, work / "train.spacy", work / "dev.spacy")
    entries = 0
    if recipe.lexicon:
        from newsflow.entity.training.lexicon import build_vectors

        kind, top, also = recipe.lexicon.kind, recipe.lexicon.top, recipe.lexicon.also
        entries = build_vectors(kind, recipe.spacy_lang, top, work / "lexicon", seed, also)
        print(f"  lexicon: {kind} vectors for {entries} word forms")
        config["initialize"]["vectors"] = str(work / "lexicon")
        config["components"]["ner"]["model"]["tok2vec"]["embed"]["include_static_vectors"] = True
    config["system"]["seed"] = seed
    config.to_disk(work / "config.cfg")
    # CPU time of this (one-thread) process, so the figure does not depend on what else runs.
    started = time.process_time()
    spacy_train(work / "config.cfg", work / "output", use_gpu=-1)
    minutes = (time.process_time() - started) / 60

    vectors = f"{recipe.lexicon.kind} vectors from a lexicon" if recipe.lexicon else "no vectors"
    best = spacy.load(work / "output" / "model-best")
    scores = {}
    for source, sents in dev_sets:
        table, wps = evaluate(best, sents)
        scores[source.name] = {"kind": source.kind, "sentences": len(sents), **table}
        print(
            f"  {source.name} ({source.kind}): P {table['micro']['p']:.3f} "
            f"R {table['micro']['r']:.3f} F1 {table['micro']['f']:.3f}  ({wps:,.0f} words/s)"
        )
    meta = dict(best.meta)
    meta.update(
        {
            "name": "newsflow_ner",
            "version": VERSION,
            "lang": recipe.spacy_lang,
            "description": (
                f"newsflow's own compact CPU NER pipeline ({recipe.code}): tokenizer + ner "
                "(own tok2vec, hash embeddings, " + vectors + "), PER/ORG/LOC."
            ),
            "author": "newsflow",
            "license": "CC BY-SA 4.0",
            "spacy_version": ">=3.8.0,<3.9.0",
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "use": s.use,
                    "license": s.licence,
                    "citation": s.citation,
                    **({"limit": s.limit} if s.limit else {}),
                }
                for s in recipe.sources
            ]
            + (
                [
                    {
                        **LEXICON_SOURCES[recipe.lexicon.kind],
                        "words": recipe.lexicon.top,
                        "entries": entries,
                    }
                ]
                if recipe.lexicon
                else []
            ),
            "newsflow": {
                "recipe": recipe.code,
                "seed": seed,
                "max_steps": recipe.max_steps,
                "training_sentences": len(train_docs),
                "training_minutes": round(minutes, 1),
                "held_out_rule": "sentence i held out when (i // 20) % 10 == 0",
                "scripts": list(recipe.scripts),
                **({"chinese": recipe.chinese} if recipe.chinese else {}),
                "scores": scores,
            },
        }
    )
    ner: Any = best.get_pipe("ner")
    meta["labels"] = {"ner": sorted(ner.labels)}
    meta.pop("performance", None)
    target = write_package(recipe, work / "output" / "model-best", meta, out)
    print(f"  written to {target} in {minutes:.1f} CPU minutes of training")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", required=True, choices=sorted(RECIPES))
    parser.add_argument("--data", type=Path, required=True, help="../shared")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=None, help="override the recipe's")
    parser.add_argument("--work", type=Path, default=None, help="keep the corpora/checkpoints")
    parser.add_argument("--out", type=Path, default=PIPELINES, help="where the packages are")
    args = parser.parse_args(argv)
    recipe = RECIPES[args.lang]
    if args.max_steps:
        recipe = dataclasses.replace(recipe, max_steps=args.max_steps)
    # One process per core: this run computes on one thread; `make -j` runs languages side by side.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    print(f"training {recipe.package} {VERSION} from {args.data}")
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        train(recipe, args.data, args.work, args.out, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix=f"newsflow-ner-{recipe.code}-") as tmp:
            train(recipe, args.data, Path(tmp), args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
