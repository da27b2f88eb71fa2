"""The NER training recipe's parts on small hand-written data: readers, the held-out split,
conversion to spaCy docs, the config each language trains with, and the package it writes."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from newsflow.entity.goldsets import Sentence, held_out, read_conll, read_wikiann, split
from newsflow.entity.training import train as recipe_train
from newsflow.entity.training import zh_roles
from newsflow.entity.training.recipes import RECIPES, TYPES

WIKIANN = (
    "de:als\tO\nde:Teil\tO\nde:der\tO\nde:Savoyer\tB-LOC\nde:Voralpen\tI-LOC\n\nde:Ulm\tB-LOC\n"
)

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
met VBD B-VP O
John NNP B-NP I-PER
Smith NNP I-NP B-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP I-LOC
"""


def test_wikiann_reader(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_text(WIKIANN, encoding="utf-8")
    first, second = read_wikiann(tmp_path / "w.txt")
    assert first.text == "als Teil der Savoyer Voralpen"
    assert first.gold == {(13, 29, "LOC")}
    assert second.gold == {(0, 3, "LOC")}


def test_conll_reader_iob1(tmp_path: Path) -> None:
    (tmp_path / "c.conll").write_text(CONLL, encoding="utf-8")
    first, second = read_conll(tmp_path / "c.conll")
    assert [s.text for s in first] == ["EU rejects German call .", "Peter Blackburn met John Smith"]
    assert first[0].gold == {(0, 2, "ORG"), (11, 17, "MISC")}
    # IOB1: I- continues, B- only splits two adjacent entities of one type
    assert first[1].gold == {(0, 15, "PER"), (20, 24, "PER"), (25, 30, "PER")}
    assert second[0].gold == {(0, 8, "LOC")}


def test_held_out_split_is_whole_blocks_and_disjoint() -> None:
    sentences = [Sentence(str(i), set()) for i in range(400)]
    train, dev = split(sentences)
    assert len(dev) == 40 and len(train) == 360
    assert {s.text for s in train}.isdisjoint({s.text for s in dev})
    assert [held_out(i) for i in (0, 19, 20, 199, 200, 219, 220)] == [
        True, True, False, False, True, True, False,
    ]  # fmt: skip


def test_spans_become_token_entities() -> None:
    nlp = spacy.blank("sv")
    docs, lost = recipe_train.to_docs(
        nlp,
        [
            Sentence("Anna Svensson bor i Uppsala.", {(0, 13, "PER"), (20, 27, "LOC")}),
            Sentence("SVT:s reporter", {(0, 3, "ORG")}),  # inside a token: widened to it
        ],
    )
    assert lost == 0
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Anna Svensson", "PER"),
        ("Uppsala", "LOC"),
    ]
    assert [e.label_ for e in docs[1].ents] == ["ORG"]
    zh, lost = recipe_train.to_docs(
        spacy.blank("zh"), [Sentence("習近平訪問北京", {(0, 3, "PER")})]
    )
    assert lost == 0 and [e.text for e in zh[0].ents] == ["習近平"]  # one token a character


def test_capitals_keep_offsets() -> None:
    sentences = [
        Sentence(f"Olof Palme talade i Stockholm {i}", {(0, 10, "PER")}) for i in range(50)
    ]
    upper = recipe_train.upper_copies(sentences, 0.2, seed=1)
    assert len(upper) == 10
    assert all(s.text.isupper() or not s.text.isalpha() for s in upper)
    assert all(s.text[0:10] == "OLOF PALME" and s.gold == {(0, 10, "PER")} for s in upper)
    # a character that grows when upper-cased would shift offsets: such sentences are skipped
    assert recipe_train.upper_copies([Sentence("Straße in Köln", {(10, 14, "LOC")})], 1.0, 0) == []


def test_recipes_train_only_on_what_they_may() -> None:
    for code, recipe in RECIPES.items():
        assert recipe.package == f"{code}_newsflow_ner"
        assert recipe.max_steps <= 10_000
        for source in recipe.sources:
            assert "conll" not in source.path.lower(), "CoNLL-2003 is evaluation-only"
            if source.trained and source.path.startswith("eval/"):
                # an eval file is trained on only where the data's README allows it, and then
                # on its trained part only (or whole, where it is the corpus's train file)
                assert source.use in ("split", "train_part"), (code, source.name)
            assert source.licence and source.citation
        assert any(s.scored for s in recipe.sources), f"{code}: nothing to select a model on"
    assert set(TYPES) == {"PER", "ORG", "LOC"}


@pytest.mark.parametrize("code", sorted(RECIPES))
def test_every_recipe_builds_a_ner_only_pipeline(code: str, tmp_path: Path) -> None:
    recipe = RECIPES[code]
    config = recipe_train.build_config(recipe, tmp_path / "t.spacy", tmp_path / "d.spacy")
    assert config["training"]["max_steps"] == recipe.max_steps
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.lang == recipe.spacy_lang
    assert nlp.pipe_names == ["ner"], "ner holds its own tok2vec (enable=['ner'] runs it all)"


WRITTEN = {
    "sv": Sentence("Anna bor i Lund", {(0, 4, "PER")}),
    "zh": Sentence("李明住在北京", {(0, 2, "PER")}),
}


@pytest.mark.parametrize("code", sorted(WRITTEN))
def test_written_package_loads_by_name(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A (barely trained) pipeline written as a package is importable and loads with its meta;
    one trained with the Chinese word roles carries their tokenizer and its dependencies."""
    recipe = RECIPES[code]
    config = recipe_train.build_config(recipe, tmp_path / "t.spacy", tmp_path / "d.spacy")
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    docs, _ = recipe_train.to_docs(nlp, [WRITTEN[code]])
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in docs])
    nlp.to_disk(tmp_path / "model")
    meta = {
        **nlp.meta,
        "name": "newsflow_ner",
        "version": recipe_train.VERSION,
        "lang": recipe.spacy_lang,
        "description": "test",
        "labels": {"ner": sorted(nlp.get_pipe("ner").labels)},
        "sources": [
            {"name": "x", "kind": "gold", "use": "train", "license": "CC0", "citation": "y"}
        ],
        "newsflow": {
            "recipe": code,
            "seed": 0,
            "max_steps": 1,
            "training_sentences": 1,
            "training_minutes": 0.0,
            "scores": {"x": {"kind": "gold", "sentences": 1, "micro": {"p": 1, "r": 1, "f": 1}}},
            "scripts": ["Latn"],
        },
    }
    target = recipe_train.write_package(recipe, tmp_path / "model", meta, tmp_path / "pkgs")
    package = recipe.package
    root = tmp_path / "pkgs" / package.replace("_", "-")
    assert target.parent == root / package
    pyproject = (root / "pyproject.toml").read_text()
    assert f'name = "{code}-newsflow-ner"' in pyproject
    assert ("jieba" in pyproject) is recipe.char_roles
    assert (root / package / "char_roles.py").is_file() is recipe.char_roles
    assert "| x | gold | train | CC0 | y |" in (root / "README.md").read_text()
    monkeypatch.syspath_prepend(str(root))
    sys.modules.pop(package, None)
    importlib.invalidate_caches()
    loaded = importlib.import_module(package).load()  # what spacy.load(name) calls
    assert loaded.pipe_names == ["ner"] and loaded.meta["newsflow"]["recipe"] == code
    assert json.loads((target / "meta.json").read_text())["version"] == recipe_train.VERSION
    # the string store is a cache of what was read: only the labels are kept
    strings = json.loads((target / "vocab" / "strings.json").read_text())
    assert strings == sorted(meta["labels"]["ner"])
    if recipe.char_roles:
        assert next(t.tag_ for t in loaded("李明住在北京")).startswith("B-")
    sys.modules.pop(package, None)
    sys.modules.pop(f"{package}.char_roles", None)


def test_char_roles_mark_each_characters_place_in_its_word() -> None:
    text = "李明星期二在北京會見了 IBM 的代表。"
    roles = zh_roles.char_roles(text)
    assert len(roles) == len(text)
    places = "".join(r[0] for r in roles)
    # every word is B M* E or S: no word left open, none started inside another
    assert re.fullmatch(r"(?:BM*E|S)+", places), places
    assert roles[text.index("北京")].startswith("B-") and roles[text.index("北京") + 1][0] == "E"
    assert roles[text.index(" ")].endswith("-x")  # the space is jieba's non-word
    # Traditional characters get the roles of their Simplified form (jieba's dictionary)
    assert zh_roles.char_roles("會見") == zh_roles.char_roles("会见")
    assert zh_roles.simplified("會見了") == "会见了" and zh_roles.char_roles("") == []


def test_char_role_tokenizer_tags_character_tokens() -> None:
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": zh_roles.NAME}}})
    doc = nlp("他在北京。")
    assert [t.text for t in doc] == ["他", "在", "北", "京", "。"]
    assert [t.tag_[0] for t in doc][2:4] == ["B", "E"]
    again = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": zh_roles.NAME}}})
    again.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert [t.tag_ for t in again("他在北京。")] == [t.tag_ for t in doc]


def test_lexicon_frequency_bands() -> None:
    from newsflow.entity.training.lexicon import BANDS, band

    assert band(-3.0) == 0 and band(-9.0) == 3
    assert band(-60.0) == BANDS - 1 and band(0.0) == 0
    assert [band(-x) for x in range(2, 17, 2)] == list(range(BANDS))


def test_word_forms_cells() -> None:
    from newsflow.entity.training.lexicon import BANDS, form_table

    known = {"björn", "hus", "huset", "Stockholm", "Danmark"}
    cells = form_table([("björn", 4.2), ("stockholm", 5.6), ("och", 7.5), ("xyz", 0.5)], known)
    assert cells["björn"] == cells["Björn"] == (3, True, False)
    assert cells["Stockholm"] == (2, False, True)
    assert cells["och"] == (0, False, False) and cells["xyz"][0] == BANDS - 1
    assert cells["Danmark"] == (BANDS - 1, False, True)  # a name the table knows, not in words
    assert "hus" not in cells and "Hus" not in cells
