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
