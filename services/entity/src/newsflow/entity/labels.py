"""One table that maps every model's labels to newsflow's four: PER, ORG, LOC, MISC.

Labels not in the table (numbers, dates, money, quantities, ordinals, …) are dropped.

| model labels                                              | newsflow |
|-----------------------------------------------------------|----------|
| PERSON (OntoNotes), PER (WikiNER, CoNLL)                  | PER      |
| ORG                                                       | ORG      |
| GPE, LOC, FAC                                             | LOC      |
| NORP, EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE, MISC    | MISC     |
| DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL   | dropped  |
"""

from __future__ import annotations

from typing import Literal

Label = Literal["PER", "ORG", "LOC", "MISC"]

LABEL_MAP: dict[str, Label] = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "MISC": "MISC",
}


def normalise_label(label: str) -> Label | None:
    return LABEL_MAP.get(label.upper())


# First words of place names ("Port Elwin", "Mount Kenya", "Lake Geneva"): a name of two or more
# words that starts with one is a place, whatever a pipeline's label (small pipelines read
# "Port Elwin" as a person: a capitalised word followed by a name-like word). By language.
PLACE_HEADS: dict[str, frozenset[str]] = {
    "en": frozenset({"port", "mount", "mt", "lake", "cape", "fort", "gulf", "isle", "strait"}),
}


def place_fix(name: str, label: Label, language: str) -> Label:
    """LOC for a PER/ORG name that starts with a place-name head word of its language."""
    if label not in ("PER", "ORG"):
        return label
    words = name.split()
    heads = PLACE_HEADS.get(language.split("-", 1)[0])
    if heads and len(words) >= 2 and words[0].casefold().rstrip(".") in heads:
        return "LOC"
    return label
