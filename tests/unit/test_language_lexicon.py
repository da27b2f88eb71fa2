"""Word rules for hr/bs/sr (Latin script), ms/id, no/nn/da and af/nl: the sentences are written
for these tests."""

from __future__ import annotations

import pytest

from newsflow.language.lexicon import sibling_by_words
from newsflow.language.logic import LanguageIdentifier

BOSNIAN = (
    "Vijeće ministara je prošle sedmice usvojilo budžet od dvije hiljade miliona maraka. "
    "Sjednica je održana tokom juna u Sarajevu, a ko će predsjedavati idućom, još nije poznato."
)
CROATIAN = (
    "Vlada je prošlog tjedna usvojila proračun od dvije tisuće milijuna kuna. Sjednica je "
    "održana tijekom lipnja u Zagrebu, a tko će predsjedati idućom, još nije poznato."
)
SERBIAN_LATIN = (
    "Vlada je prošle nedelje usvojila budžet od dve hiljade miliona dinara. Sednica je održana "
    "tokom juna u Beogradu, a ko će predsedavati sledećom, još uvek nije poznato."
)
MALAY = (
    "Kerajaan mengumumkan bahawa harga minyak akan naik pada bulan Ogos kerana permintaan yang "
    "tinggi, iaitu kenaikan sebanyak lima peratus."
)
INDONESIAN = (
    "Pemerintah mengumumkan bahwa harga minyak akan naik pada bulan Agustus karena permintaan "
    "yang tinggi, yaitu kenaikan sebesar lima persen."
)
BOKMAL = "Det ble sagt at noen hadde mye å gjøre, men hva som skjedde nå er uklart."
NYNORSK = "Det vart sagt at nokon hadde mykje å gjere, men kva som skjedde er uklart, seier eg."
DANISH = "Det blev sagt at nogen havde meget at gøre, men hvad der skete nu er uklart."
AFRIKAANS = "Ek het gesê dat hulle nie vir die kinders sal wag nie."
DUTCH = "Ik heb gezegd dat zij niet op de kinderen zullen wachten."
GROUPS = {
    "hr": ("hr", "bs", "sr"),
    "ms": ("ms", "id"),
    "no": ("no", "nn", "da"),
    "af": ("af", "nl"),
}
CASES = [
    (BOSNIAN, "bs", "hr"),
    (CROATIAN, "hr", "hr"),
    (SERBIAN_LATIN, "sr", "hr"),
    (MALAY, "ms", "ms"),
    (INDONESIAN, "id", "ms"),
    (BOKMAL, "no", "no"),
    (NYNORSK, "nn", "no"),
    (DANISH, "da", "no"),
    (AFRIKAANS, "af", "af"),
    (DUTCH, "nl", "af"),
]


@pytest.mark.parametrize(("text", "code", "group"), CASES)
def test_marker_words_single_out_the_sibling(text: str, code: str, group: str) -> None:
    for leader in GROUPS[group]:
        assert sibling_by_words(leader, text) == code


def test_no_markers_or_a_mix_decide_nothing() -> None:
    assert sibling_by_words("hr", "Sjednica je održana u gradu.") is None
    # One Croatian and one Bosnian marker: no member has three times the other's evidence.
    assert sibling_by_words("hr", "Tijekom sedmice je bilo mirno.") is None
    assert sibling_by_words("id", "Harga naik karena kerana permintaan.") is None
    # Other languages are not this module's business.
    assert sibling_by_words("sl", BOSNIAN) is None


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(("text", "code", "group"), CASES)
def test_identifier_applies_the_word_rules(
    identifier: LanguageIdentifier, text: str, code: str, group: str
) -> None:
    section = identifier.identify(text)
    assert section.code == code
    assert section.confidence >= 0.5
