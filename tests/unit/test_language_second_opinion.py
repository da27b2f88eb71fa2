"""lingua's second opinion: asked only where fastText is unsure, among a few candidates."""

from __future__ import annotations

import pytest

from newsflow.language.logic import CHECK_CHARS, SURE_OF_KNOWN, LanguageIdentifier
from newsflow.language.second import LONG_TEXT, SCREEN_KEEP, SecondOpinion, candidates
from newsflow.shared.settings import Settings


@pytest.fixture(scope="module")
def second() -> SecondOpinion:
    return SecondOpinion()


@pytest.fixture(scope="module")
def hybrid(second: SecondOpinion) -> LanguageIdentifier:
    """fastText with lingua's second opinion only (CLD2 off: these tests are about lingua)."""
    identifier = LanguageIdentifier.from_settings(
        Settings(language_second_opinion=False, language_cld2=False)
    )
    identifier.second = second
    return identifier


@pytest.fixture(scope="module")
def with_cld2(second: SecondOpinion) -> LanguageIdentifier:
    """As the service runs: CLD2 first, lingua for close languages and disagreements."""
    identifier = LanguageIdentifier.from_settings(Settings(language_second_opinion=False))
    identifier.second = second
    assert identifier.cld2
    return identifier


@pytest.fixture(scope="module")
def fasttext_only() -> LanguageIdentifier:
    return LanguageIdentifier.from_settings(Settings(language_second_opinion=False))


ZULU = (
    "Abantu abaningi bahlala emadolobheni amakhulu aseNingizimu Afrika, kodwa izindawo "
    "zasemakhaya zisabalulekile kakhulu ezweni lonke."
)
NYNORSK = "Eg veit ikkje kva tid toget går i morgon, men eg trur det er tidleg på dagen."
ENGLISH = (
    "The city council approved the new budget on Thursday after a long debate about "
    "public transport and the cost of housing."
)


def test_candidates_are_the_guesses_their_relatives_and_the_languages_fasttext_lacks(
    second: SecondOpinion,
) -> None:
    chosen = candidates([("no", 0.6), ("da", 0.3), ("en", 0.005)], "Latn", second.known)
    assert {"nb", "nn", "da", "sv"} <= chosen  # "no" is Bokmål to lingua; its relatives
    assert {"zu", "xh", "yo", "bs"} <= chosen  # Latin-script languages lid.176 lacks
    assert "sw" in chosen  # and their relatives: Swahili, which lid.176 ranks low
    assert "en" not in chosen  # too unlikely to be worth lingua's time
    cyrillic = candidates([("ru", 0.7), ("bg", 0.2)], "Cyrl", second.known)
    assert cyrillic == {"ru", "uk", "bg", "mk", "be"}
    # A language lingua does not know is never a candidate.
    assert "gl" not in candidates([("gl", 0.6), ("pt", 0.3)], "Latn", second.known)


def test_a_language_fasttext_lacks_is_found(
    hybrid: LanguageIdentifier, fasttext_only: LanguageIdentifier
) -> None:
    assert fasttext_only.identify(ZULU).code != "zu"  # lid.176 has no Zulu
    section = hybrid.identify(ZULU)
    assert section.code == "zu"
    assert section.name == "Zulu"


def test_swahili_fasttext_does_not_rank_is_found(
    hybrid: LanguageIdentifier, fasttext_only: LanguageIdentifier
) -> None:
    text = "Watoto wengi walikwenda shuleni asubuhi na walimu wao walifurahi sana."
    alone = fasttext_only.identify(text)
    assert alone.code != "sw" and "sw" not in {a.code for a in alone.alternatives}
    assert hybrid.identify(text).code == "sw"


def test_close_languages_are_told_apart(hybrid: LanguageIdentifier) -> None:
    assert hybrid.identify(NYNORSK).code == "nn"


def test_confident_text_never_asks(
    hybrid: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _spy_on_lingua(second, monkeypatch)
    assert hybrid.identify(ENGLISH).code == "en"
    assert asked == []
    # A short boilerplate line fastText is unsure of is too light to ask about.
    assert hybrid.identify("Mehr lesen\n" + ENGLISH + "\n" + ENGLISH).code == "en"
    assert asked == []
    hybrid.identify(ZULU)
    assert asked == [ZULU]


def test_languages_lingua_does_not_know_keep_fasttext_share(
    hybrid: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[frozenset[str]] = []
    original = second.ask

    def spy(text: str, codes: frozenset[str]) -> dict[str, float]:
        asked.append(codes)
        return original(text, codes)

    monkeypatch.setattr(second, "ask", spy)
    # Galician: fastText knows it (unsure here), lingua does not; lingua only splits the rest.
    section = hybrid.identify("A nova ponte abrirá en xuño")
    assert asked and "gl" not in asked[0]
    assert section.code == "gl"


def test_confidence_is_calibrated_into_range(hybrid: LanguageIdentifier) -> None:
    for text in (ZULU, NYNORSK, ENGLISH):
        section = hybrid.identify(text)
        assert 0.5 <= section.confidence <= 1.0


def test_many_candidates_are_screened_by_trigrams(
    second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[frozenset[str], bool]] = []
    read: list[str] = []
    original = second._detector

    def spy(codes: frozenset[str], low_accuracy: bool) -> object:
        built.append((codes, low_accuracy))
        detector = original(codes, low_accuracy)

        class Reading:
            def compute_language_confidence_values(self, text: str) -> object:
                read.append(text)
                return detector.compute_language_confidence_values(text)

        return Reading()

    monkeypatch.setattr(second, "_detector", spy)
    many = candidates([("no", 0.5), ("da", 0.3)], "Latn", second.known)
    assert len(many) > SCREEN_KEEP
    opinion = second.ask(NYNORSK, many)
    # The trigram ranking over all of them, then the accurate models over its top few.
    assert built[0] == (many, True)
    assert built[1][1] is False and len(built[1][0]) == SCREEN_KEEP and built[1][0] < many
    assert set(opinion) <= built[1][0]
    assert max(opinion, key=opinion.__getitem__) == "nn"
    # Few candidates: one call, no screening.
    built.clear()
    second.ask(NYNORSK, frozenset({"nn", "nb"}))
    assert built == [(frozenset({"nn", "nb"}), False)]
    # Long text: ranked on its first LONG_TEXT characters, then read whole by the trigram
    # models among the top few.
    built.clear()
    read.clear()
    long = " ".join([NYNORSK] * 3)
    assert len(long) > LONG_TEXT
    opinion = second.ask(long, many)
    assert built[0] == (many, True) and read[0] == long[:LONG_TEXT]
    assert built[1][1] is True and len(built[1][0]) == SCREEN_KEEP and read[1] == long
    assert max(opinion, key=opinion.__getitem__) == "nn"


class _StubLingua:
    """A second opinion with a fixed answer, knowing Luganda and Tagalog but not Waray."""

    known = frozenset({"lg", "tl", "zu", "ts", "en"})

    def __init__(self, answer: dict[str, float]) -> None:
        self.answer = answer

    def ask(self, text: str, codes: frozenset[str]) -> dict[str, float]:
        return dict(self.answer)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"lg": 0.99, "tl": 0.01}, "lg"),  # sure of a language lid.176 lacks
        ({"lg": 0.6, "tl": 0.4}, "war"),  # unsure: Waray keeps fastText's share and wins
        ({"tl": 0.99, "lg": 0.01}, "war"),  # a language lid.176 knows: Waray keeps its share
    ],
)
def test_a_sure_answer_for_a_language_fasttext_lacks_outweighs_its_unknown_guesses(
    monkeypatch: pytest.MonkeyPatch,
    answer: dict[str, float],
    expected: str,
) -> None:
    identifier = LanguageIdentifier.from_settings(
        Settings(language_second_opinion=False, language_cld2=False)
    )
    identifier.second = _StubLingua(answer)  # type: ignore[assignment]
    # lid.176 on Luganda text, as it often is: most of its mass on Waray and Cebuano, which
    # lingua cannot check.
    guess = {"war": 0.5, "ceb": 0.2, "tl": 0.1}
    monkeypatch.setattr(identifier, "_predict", lambda line: dict(guess))
    section = identifier.identify("Abaana bangi baagenda ku ssomero enkya nga basanyufu nnyo.")
    assert section.code == expected, section


# Sesotho (lid.176 has none) that fastText reads as Italian, and is sure of it.
SESOTHO = "Dintja di bohola bosiu kaofela."
ITALIAN = "Oggi i bambini vanno a scuola con la madre e il padre."
GERMAN = (
    "Der Stadtrat hat am Donnerstag nach einer langen Debatte über den öffentlichen Verkehr "
    "und die Kosten für Wohnungen den neuen Haushalt beschlossen. Die Opposition kritisierte, "
    "dass die Mittel für Schulen und Kindergärten nicht ausreichen würden, und kündigte an, im "
    "Frühjahr einen eigenen Antrag vorzulegen."
)


def test_a_language_fasttext_lacks_is_found_where_fasttext_is_sure(
    hybrid: LanguageIdentifier, fasttext_only: LanguageIdentifier
) -> None:
    alone = fasttext_only.identify(SESOTHO)
    assert alone.code == "it"
    assert max(hybrid._predict(SESOTHO).values()) >= hybrid.ask_below  # lingua not asked
    assert hybrid.identify(SESOTHO).code == "st"


def test_the_check_for_lacking_languages_is_one_trigram_ranking_and_rarely_runs(
    hybrid: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    screened: list[frozenset[str]] = []
    original = second.screen

    def spy(text: str, codes: frozenset[str], chars: int) -> dict[str, float]:
        screened.append(codes)
        assert chars == CHECK_CHARS
        return original(text, codes, chars)

    monkeypatch.setattr(second, "screen", spy)
    # A paragraph fastText reads at SURE_OF_KNOWN or more is not checked.
    assert max(hybrid._predict(GERMAN).values()) >= SURE_OF_KNOWN
    assert hybrid.identify(GERMAN).code == "de"
    assert screened == []
    # A sure sentence under that is checked once, against the languages lid.176 lacks, and
    # keeps its language when lingua's ranking does not put one of those first.
    assert hybrid.identify(ITALIAN).code == "it"
    assert len(screened) == 1
    assert {"it", "st", "zu", "mi", "yo"} <= screened[0]
    assert "fr" not in screened[0]  # fastText's other guesses are not ranked


MAORI = "Kua tae mai ngā manuhiri ki te marae i te ahiahi nei."


def _spy_on_lingua(second: SecondOpinion, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    original = second.ask

    def spy(text: str, codes: frozenset[str]) -> dict[str, float]:
        asked.append(text)
        return original(text, codes)

    monkeypatch.setattr(second, "ask", spy)
    return asked


def test_cld2_answers_a_language_fasttext_lacks_without_lingua(
    with_cld2: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _spy_on_lingua(second, monkeypatch)
    assert max(with_cld2._predict(MAORI).values()) < with_cld2.ask_below  # fastText unsure
    section = with_cld2.identify(MAORI)
    assert section.code == "mi"
    assert asked == []
    # Zulu and Xhosa are close: there lingua decides.
    assert with_cld2.identify(ZULU).code == "zu"
    assert asked == [ZULU]
    assert 0.5 <= section.confidence <= 1.0


def test_close_languages_and_disagreements_go_to_lingua(
    with_cld2: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _spy_on_lingua(second, monkeypatch)
    # Nynorsk: CLD2 may well be reliable, but between close languages lingua decides.
    assert with_cld2.identify(NYNORSK).code == "nn"
    assert asked == [NYNORSK]
    # CLD2 naming a language lid.176 knows that is not fastText's leader: lingua arbitrates.
    asked.clear()
    monkeypatch.setattr(with_cld2, "_predict", lambda line: {"es": 0.5, "it": 0.3})
    monkeypatch.setattr("newsflow.language.logic.cld2_opinion", lambda text: {"it": 1.0})
    with_cld2.identify("Questa frase è scritta in italiano, non in spagnolo.")
    assert len(asked) == 1
    # ... and when it confirms the leader, it answers.
    asked.clear()
    monkeypatch.setattr("newsflow.language.logic.cld2_opinion", lambda text: {"es": 1.0})
    assert with_cld2.identify("Questa frase è scritta in italiano, non in spagnolo.").code == "es"
    assert asked == []


def test_cld2_checks_for_lacking_languages_where_fasttext_is_sure(
    with_cld2: LanguageIdentifier, second: SecondOpinion, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    original = second.screen

    def spy(text: str, codes: frozenset[str], chars: int = LONG_TEXT) -> dict[str, float]:
        if chars == CHECK_CHARS:  # the lacking-language check's ranking, not lingua's own
            checks.append(text)
        return original(text, codes, chars)

    monkeypatch.setattr(second, "screen", spy)
    assert with_cld2.identify(SESOTHO).code == "st"
    assert with_cld2.identify(ITALIAN).code == "it"
    assert checks == []  # CLD2 did the check, not lingua's trigram ranking


def test_cld2_narrows_lingua_candidates_when_sure_of_a_language_fasttext_knows(
    second: SecondOpinion,
) -> None:
    lacking = frozenset({"zu", "xh", "yo", "mi"})
    ranked = [("en", 0.4), ("fr", 0.2)]
    chosen = candidates(ranked, "Latn", second.known)
    assert {"zu", "yo"} <= chosen
    # CLD2 sure of Irish, which fastText did not rank: Irish comes in, the lacking languages
    # (CLD2 knows them and did not see them) go out.
    narrowed = LanguageIdentifier._narrowed(chosen, {"ga": 1.0}, ranked, second.known, lacking)
    assert {"ga", "en", "fr"} <= narrowed
    assert not narrowed & {"zu", "yo", "mi"}
    # CLD2's language with its close relatives.
    nynorsk = LanguageIdentifier._narrowed(chosen, {"nn": 1.0}, ranked, second.known, lacking)
    assert {"nn", "nb", "da", "sv"} <= nynorsk
    # CLD2 reading a lacking language: the candidates stay as they were.
    assert (
        LanguageIdentifier._narrowed(chosen, {"yo": 1.0}, ranked, second.known, lacking) == chosen
    )
