"""Word rules for hr/bs/sr (Latin script), ms/id, no/nn/da/sv and af/nl: the sentences are written
for these tests."""

from __future__ import annotations

import pytest

from newsflow.language.lexicon import WordVerdict, word_verdict
from newsflow.language.logic import LanguageIdentifier, by_words

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
        assert word_verdict(leader, text).chosen == code


def test_no_markers_or_a_mix_decide_nothing() -> None:
    assert word_verdict("hr", "Sjednica je održana u gradu.").chosen is None
    # One Croatian and one Bosnian marker: no member has three times the other's evidence.
    assert word_verdict("hr", "Tijekom sedmice je bilo mirno.").chosen is None
    assert word_verdict("id", "Harga naik karena kerana permintaan.").chosen is None
    # Other languages are not this module's business.
    assert word_verdict("sl", BOSNIAN).chosen is None


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


def test_words_shared_by_two_members_rule_the_others_out() -> None:
    # "ikke" is Bokmål and Danish, "er" all but Swedish: Nynorsk and Swedish are ruled out,
    # Bokmål against Danish stays open.
    verdict = word_verdict("nn", "Det er ikke sant.")
    assert verdict.chosen is None
    assert verdict.ruled_out == {"nn", "sv"}
    swedish = word_verdict("no", "Det är inte sant, och jag vet det.")
    assert swedish.chosen == "sv"
    assert swedish.ruled_out == {"no", "nn", "da"}


def test_sa_before_a_word_croatian_joins_with_s_is_eastern() -> None:
    assert word_verdict("hr", "Razgovarao je sa prijateljem.").ruled_out == {"hr"}
    # Standard Croatian too: "sa" before s, š, z, ž and "mnom".
    for text in ("Razgovarao je sa sestrom.", "Ide sa mnom.", "Bio je sa ženom."):
        assert word_verdict("hr", text) == WordVerdict(None, frozenset(), {})


def test_a_ruled_out_leader_gives_way_to_the_strongest_sibling_left() -> None:
    dist = {"nn": 0.6, "no": 0.25, "da": 0.1, "en": 0.05}
    shares, best = by_words(dist, "nn", "Det er ikke sant.")
    assert best == "no"
    assert shares["no"] == 0.6 and shares["nn"] == 0.25
    # Bokmål as lingua spells it, when lingua gave the shares.
    lingua_dist = {"nn": 0.6, "nb": 0.25, "da": 0.1}
    assert by_words(lingua_dist, "nn", "Det er ikke sant.")[1] == "nb"
    # Words that rule nothing out leave the leader alone.
    assert by_words(dist, "nn", "Ola og Kari.") == (dist, "nn")
