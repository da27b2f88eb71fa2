from __future__ import annotations

import unicodedata
from collections import Counter

import pytest

from newsflow.language.logic import (
    LanguageIdentifier,
    absorb_short_runs,
    calibrated,
    clean_line,
    fold_shouting,
    line_runs,
)
from newsflow.shared.scripts import _runs_by_characters, dominant_script, script_runs_counted


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


ENGLISH = (
    "The regional council approved a new budget for public libraries on Thursday after a long "
    "debate. Several members argued that opening hours should be extended in rural areas.\n"
    "The plan will be reviewed again next spring, officials said."
)


def test_english_with_persian_boilerplate_header_is_english(identifier: LanguageIdentifier) -> None:
    text = "خبرگزاری ایران | اخبار روز\n" + ENGLISH
    section = identifier.identify(text)
    assert section.code == "en"
    assert section.script == "Latn"
    assert section.confidence > 0.7


def test_whole_text_is_read_not_just_the_start(identifier: LanguageIdentifier) -> None:
    # 100+ characters of navigation chrome in another language, then the real article.
    chrome = "Inicio · Noticias · Deportes · Contacto · Suscríbete · Iniciar sesión\n"
    section = identifier.identify(chrome + ENGLISH + "\n" + ENGLISH)
    assert section.code == "en"


@pytest.mark.parametrize(
    ("text", "code", "script"),
    [
        (
            "Le gouvernement a présenté mercredi un projet de loi sur le logement social.",
            "fr",
            "Latn",
        ),
        (
            "Die Stadtverwaltung hat am Montag einen neuen Radweg entlang des Flusses eröffnet.",
            "de",
            "Latn",
        ),
        ("Правительство объявило о новых мерах поддержки малого бизнеса в регионах.", "ru", "Cyrl"),
        ("東京都は月曜日、新しい交通計画を発表した。バスと電車の本数を増やす。", "ja", "Jpan"),
        (
            "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την ενίσχυση των μικρών επιχειρήσεων.",
            "el",
            "Grek",
        ),
    ],
)
def test_languages_and_scripts(
    identifier: LanguageIdentifier, text: str, code: str, script: str
) -> None:
    section = identifier.identify(text)
    assert (section.code, section.script) == (code, script)


def test_names_and_bcp47_codes(identifier: LanguageIdentifier) -> None:
    from newsflow.language.codes import language_name, to_bcp47

    section = identifier.identify(ENGLISH)
    assert (section.code, section.name) == ("en", "English")
    assert to_bcp47("als") == "gsw" and to_bcp47("sv") == "sv"
    assert language_name("gsw") == "Swiss German" and language_name("und") is None
    assert identifier.identify("OK").name is None


def test_minority_language_segments_with_offsets(identifier: LanguageIdentifier) -> None:
    swedish = (
        "Regeringen presenterade på tisdagen ett nytt förslag om skatter för småföretag.\n"
        "Finansministern sade att förändringen ska gälla från nästa år och gynna företagare "
        "i hela landet, särskilt på landsbygden där många har svårt att anställa.\n"
        "Oppositionen kritiserade förslaget och kallade det otillräckligt.\n"
    )
    bio = (
        "Anna Lind is a business reporter based in Stockholm who covers tax policy and "
        "small companies for the paper."
    )
    header = "خبرگزاری | اخبار\n"
    text = header + swedish + bio
    section = identifier.identify(text)
    assert section.code == "sv"
    assert [s.code for s in section.segments] == ["en"], section.segments
    segment = section.segments[0]
    assert text[segment.start : segment.end] == bio
    assert not any(s.code == "fa" for s in section.segments), "a short header is no real share"
    assert identifier.identify(swedish).segments == []


def test_simplified_and_traditional_chinese(identifier: LanguageIdentifier) -> None:
    simplified = identifier.identify("这个国家的经济发展很快，政府说明年会继续开放市场。")
    traditional = identifier.identify("這個國家的經濟發展很快，政府說明年會繼續開放市場。")
    assert (simplified.code, simplified.script, simplified.name) == (
        "zh-Hans", "Hans", "Chinese (Simplified)",
    )  # fmt: skip
    assert (traditional.code, traditional.script) == ("zh-Hant", "Hant")
    assert identifier.identify("東京都は月曜日、新しい交通計画を発表した。").code == "ja"


def test_too_little_text_is_und_with_reason(identifier: LanguageIdentifier) -> None:
    section = identifier.identify("OK 12")
    assert section.code == "und"
    assert section.reason is not None and "too little text" in section.reason


def test_low_confidence_is_und(identifier: LanguageIdentifier) -> None:
    strict = LanguageIdentifier(min_confidence=0.999)
    section = strict.identify("Hotel Taxi Pizza Radio Piano Kamera Chaos")
    assert section.code == "und"
    assert section.reason is not None and "low confidence" in section.reason
    assert section.alternatives, "the best guesses are still reported"


def test_all_caps_text(identifier: LanguageIdentifier) -> None:
    assert identifier.identify(ENGLISH.upper()).code == "en"
    assert fold_shouting("BREAKING NEWS TODAY") == "breaking news today"
    assert fold_shouting("NATO met in Brussels") == "NATO met in Brussels"


def test_cleaning_removes_urls_emails_markup_digits() -> None:
    line = "<p>Contact news@example.com or https://example.com/a?b=1 &amp; call 555-1234</p>"
    cleaned = clean_line(line)
    assert cleaned.split() == ["Contact", "or", "call", "-"]
    assert all(ch == " " or not ch.isspace() for ch in cleaned)
    # Whitespace fastText would not split on becomes ASCII spaces.
    assert clean_line("Ein\u00a0Satz\u2009mit\tAbstand ") == "Ein Satz mit Abstand"


@pytest.mark.parametrize(
    "raw",
    [
        "Die Regierung hat am 12. März 2024 (Quelle: dpa) neue Regeln beschlossen.\n",
        "Plain ASCII line with snake_case_words and 3,5 % and 1_000\r\n",
        "<b>Mehr:</b> https://example.com/x?id=1 oder news@example.com &amp; café\n",
        "Tabs\tand\u00a0no-break\u2009thin spaces\n",
        "Arabic-Indic digits ٠١٢٣ and fullwidth ２０２４ in a Latin line",
        "مرحبا بكم في الموقع The council met today. 2024",
        "अभी अंतिम पाठ शेष है। (2014)",
        "Cafe\u0301 – ½ ² § ø ŋ ẞ … «quoted» —",
        "   ",
        "--- *** ---",
        "東京タワーは月曜日に再開した。",
    ],
)
def test_fast_line_path_matches_cleaning_then_splitting(raw: str) -> None:
    fast_counts: Counter[str] = Counter()
    fast = line_runs(raw, fast_counts)
    slow_counts: Counter[str] = Counter()
    slow = script_runs_counted(clean_line(raw), slow_counts)

    def words(runs: list[tuple[str, int]]) -> list[tuple[list[str], int]]:
        return [(run.split(), n) for run, n in runs]

    assert words(fast) == words(slow)
    assert fast_counts == slow_counts


def test_newlines_do_not_break_prediction(identifier: LanguageIdentifier) -> None:
    section = identifier.identify("\n\n".join(ENGLISH.split(". ")))
    assert section.code == "en"


def test_dominant_script() -> None:
    def counts(text: str) -> Counter[str]:
        found: Counter[str] = Counter()
        script_runs_counted(text, found)
        return found

    assert dominant_script(counts("abc абвгд")) == "Cyrl"
    assert dominant_script(counts("한국어 텍스트"), "ko") == "Kore"
    assert dominant_script(counts("123 !!")) is None


def test_script_runs_split_mixed_lines() -> None:
    def script_runs(line: str) -> list[str]:
        return [run for run, _letters in script_runs_counted(line, Counter())]

    assert script_runs("مرحبا بكم في الموقع The council met today.") == [
        "مرحبا بكم في الموقع",
        "The council met today.",
    ]
    assert script_runs("東京タワーは月曜日に再開した。") == ["東京タワーは月曜日に再開した。"]
    assert script_runs("123 !!") == ["123 !!"]
    assert script_runs_counted("Ein Satz. Ещё одна фраза!", Counter()) == [
        ("Ein Satz.", 7),
        ("Ещё одна фраза!", 12),
    ]


def test_letters_are_counted_with_their_combining_marks() -> None:
    # Devanagari vowel signs are combining marks: "पाठ" is three letters, not two.
    hindi = "अभी अंतिम पाठ शेष है।"
    expected = sum(1 for ch in hindi if ch.isalpha() or unicodedata.category(ch)[0] == "M")
    assert script_runs_counted(hindi, Counter()) == [(hindi, expected)]
    # Latin lines take a faster path; it counts the same letters (combining accents too) and
    # nothing else (punctuation, symbols, fractions).
    latin = "Grüße, Welt! Cafe\u0301 – ½ ² § ø ŋ ẞ"
    expected = sum(1 for ch in latin if ch.isalpha() or unicodedata.category(ch)[0] == "M")
    counts: Counter[str] = Counter()
    assert script_runs_counted(latin, counts) == [(latin, expected)]
    assert counts == Counter({"Latn": expected})


def test_a_short_hindi_sentence_has_enough_letters(identifier: LanguageIdentifier) -> None:
    assert identifier.identify("अभी अंतिम पाठ शेष है।").code == "hi"


@pytest.mark.parametrize(
    "line",
    [
        "Η κυβέρνηση (Athens) ανακοίνωσε νέα μέτρα για την ΕΕ και το NATO σήμερα.",
        "« Ժամ» Ինչ անակնկալներ, April 12: pm Ինչպես",
        "東京タワー(Tokyo Tower)は月曜日に再開した。서울에서도 NEWS 보도",
        "वह दिल्ली में रहता है और Google में काम करता है।",
        "مرحبا بِكُم في الموقع The council met today ́ again",
        "\u0301 leading mark, then Русский текст and more English",
        "Единый текст без латиницы, только кириллица и знаки!",
        "서울에서 NEWS 보도, 한국어 텍스트 (Seoul) 입니다.",  # Hangul only in its runs
        "서울에서 漢字 뉴스 보도 and English",  # Hangul and Han in one run
        "한국어\u0301 텍스트 with English",  # a mark in a Hangul run
        "中文新闻 with English and 日本語のニュース",
    ],
)
def test_script_runs_are_the_same_whichever_path_finds_them(line: str) -> None:
    fast: Counter[str] = Counter()
    slow: Counter[str] = Counter()
    assert script_runs_counted(line, fast) == _runs_by_characters(line.strip(), slow)
    assert fast == slow


def test_foreign_phrase_inside_an_english_line(identifier: LanguageIdentifier) -> None:
    line = "مرحبا بكم في الموقع " + ENGLISH.split("\n")[0]
    assert identifier.identify(line).code == "en"


def test_language_hint_is_a_prior_not_a_verdict(identifier: LanguageIdentifier) -> None:
    from newsflow.language.logic import _primary

    assert identifier.identify(ENGLISH, hint="fr").code == "en", "clear text wins over a hint"
    assert (_primary("nb-NO"), _primary("zh_Hant"), _primary("EN")) == ("no", "zh", "en")


def test_script_rules() -> None:
    from newsflow.language.logic import script_rule

    assert script_rule("ja", Counter({"Hani": 10})) == "zh"  # no kana: not Japanese
    assert script_rule("zh", Counter({"Hani": 5, "Hira": 5})) == "ja"  # kana: Japanese
    assert script_rule("zh", Counter({"Hani": 40, "Hira": 1})) == "zh"  # a stray kana
    assert script_rule("ja", Counter({"Hang": 10, "Hani": 1})) == "ko"  # Hangul: Korean
    assert script_rule("en", Counter({"Latn": 10})) == "en"


def test_a_hint_is_weighed_even_when_a_script_rule_decided(
    identifier: LanguageIdentifier,
) -> None:
    assert identifier.identify("서울시는 새로운 교통 계획을 발표했다", hint="ja").code == "ko"


def test_short_runs_of_another_script_are_read_with_their_neighbour() -> None:
    # A brand in Latin letters inside Korean text is not a piece of its own.
    assert absorb_short_runs([("삼성전자는 오늘", 7), ("Galaxy", 6), ("신제품을 공개했다", 8)]) == [
        ("삼성전자는 오늘 Galaxy 신제품을 공개했다", 21)
    ]
    # Short runs before the first long one go with it; long runs stay apart.
    assert absorb_short_runs(
        [("BBC", 3), ("مرحبا بكم في الموقع", 16), ("The council met", 13)]
    ) == [
        ("BBC مرحبا بكم في الموقع", 19),
        ("The council met", 13),
    ]
    assert absorb_short_runs([("ab", 2), ("вд", 2)]) == [("ab вд", 4)]
    assert absorb_short_runs([("one run only", 10)]) == [("one run only", 10)]


def test_a_latin_name_does_not_split_a_korean_sentence() -> None:
    pieces, counts = LanguageIdentifier._pieces(
        "서울시는 Google 과 함께 새로운 서비스를 시작했다.", ""
    )
    assert len(pieces) == 1
    assert counts["Latn"] == 6 and counts["Hang"] > 0


def test_confidence_falls_with_the_amount_of_text() -> None:
    # The same raw score says less about two words than about a paragraph.
    assert calibrated(0.9, 8) < calibrated(0.9, 20) < calibrated(0.9, 60)
    assert calibrated(0.9, 60) == calibrated(0.9, 600)  # past the cap, length adds nothing
    assert calibrated(0.5, 200) < calibrated(0.9, 200) < calibrated(1.0, 200) < 1.0
    assert calibrated(0.0, 5) > 0.0


def test_a_short_title_is_answered_when_sure_and_und_when_not(
    identifier: LanguageIdentifier,
) -> None:
    sure = identifier.identify("Regierung beschließt Haushalt")
    assert sure.code == "de"
    unsure = identifier.identify("Hotel Taxi")
    assert unsure.code == "und"
    assert unsure.reason is not None and "low confidence" in unsure.reason
